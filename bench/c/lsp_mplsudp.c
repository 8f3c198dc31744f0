/* bench/c/lsp_mplsudp.c: bench/prober-rate's SR-MPLS label switcher, run in namespace B.
 *
 *   lsp_mplsudp MAX_SECONDS
 *
 * B's kernel has no MPLS forwarding, so this does what the first router of an SR-MPLS path does
 * for a one-label probe: receives MPLS-in-UDP (RFC 7510) on a UDP socket bound to port 6635 (the
 * kernel checks the outer UDP checksum), pops the one label stack entry (bottom of stack set:
 * B's Adj-SID back to A), and sends the inner IPv4 packet unchanged through an IPPROTO_RAW
 * socket to its destination. A stack of more than one label, or a payload that is not IPv4, is
 * dropped. Batched with recvmmsg/sendmmsg as bench/c/lsp_decap.c, so it is not the bottleneck.
 *
 * Prints {"ready":true} once its sockets are open. On SIGTERM/SIGINT prints its counters as one
 * JSON line on stdout and exits 0; "socketDrops" is what the kernel dropped at its UDP socket
 * (the drops column of B's /proc/net/udp for port 6635). Dies with its parent (PR_SET_PDEATHSIG)
 * and after MAX_SECONDS in any case (alarm).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64
#define BUFSZ 2048
#define MPLS_UDP_PORT 6635

static volatile sig_atomic_t stop_flag = 0;
static void on_stop(int sig) { (void)sig; stop_flag = 1; }

int main(int argc, char **argv) {
  unsigned limit = argc > 1 ? (unsigned)atoi(argv[1]) : 120;
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() == 1) return 1;
  alarm(limit);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop; /* no SA_RESTART: recvmmsg returns EINTR */
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);

  int in = socket(AF_INET, SOCK_DGRAM, 0);
  int out = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
  if (in < 0 || out < 0) { perror("lsp_mplsudp: socket"); return 1; }
  int big = 8 << 20;
  setsockopt(in, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
  setsockopt(out, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof big);
  struct sockaddr_in bnd = {.sin_family = AF_INET, .sin_port = htons(MPLS_UDP_PORT), .sin_addr = {htonl(INADDR_ANY)}};
  if (bind(in, (struct sockaddr *)&bnd, sizeof bnd) < 0) { perror("lsp_mplsudp: bind"); return 1; }

  static unsigned char bufs[BATCH][BUFSZ];
  struct mmsghdr rmsg[BATCH], smsg[BATCH];
  struct iovec riov[BATCH], siov[BATCH];
  struct sockaddr_in dst[BATCH];
  memset(rmsg, 0, sizeof rmsg);
  for (int i = 0; i < BATCH; i++) {
    riov[i].iov_base = bufs[i];
    riov[i].iov_len = BUFSZ;
    rmsg[i].msg_hdr.msg_iov = &riov[i];
    rmsg[i].msg_hdr.msg_iovlen = 1;
  }
  unsigned long long received = 0, forwarded = 0, dropped = 0, send_errors = 0, batches = 0;
  printf("{\"ready\":true,\"pid\":%d}\n", (int)getpid());
  fflush(stdout);

  while (!stop_flag) {
    int n = recvmmsg(in, rmsg, BATCH, MSG_WAITFORONE, NULL);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("lsp_mplsudp: recvmmsg");
      break;
    }
    batches++;
    int k = 0;
    for (int i = 0; i < n; i++) {
      received++;
      const unsigned char *p = bufs[i];
      unsigned len = rmsg[i].msg_len;
      /* One label stack entry (label 20 bits, TC 3, S 1, TTL 8) with S set, then IPv4. */
      if (len < 4 + 20 || (p[2] & 1) == 0) { dropped++; continue; }
      const unsigned char *q = p + 4;
      unsigned itotal = (q[2] << 8) | q[3];
      if ((q[0] >> 4) != 4 || itotal < 20 || itotal > len - 4) { dropped++; continue; }
      memset(&dst[k], 0, sizeof dst[k]);
      dst[k].sin_family = AF_INET;
      memcpy(&dst[k].sin_addr, q + 16, 4);
      siov[k].iov_base = (void *)q;
      siov[k].iov_len = itotal;
      memset(&smsg[k], 0, sizeof smsg[k]);
      smsg[k].msg_hdr.msg_name = &dst[k];
      smsg[k].msg_hdr.msg_namelen = sizeof dst[k];
      smsg[k].msg_hdr.msg_iov = &siov[k];
      smsg[k].msg_hdr.msg_iovlen = 1;
      k++;
    }
    int done = 0;
    while (done < k) {
      int m = sendmmsg(out, smsg + done, k - done, 0);
      if (m < 0) {
        if (errno == EINTR) continue;
        send_errors++; /* skip the packet that failed */
        done++;
        continue;
      }
      forwarded += m;
      done += m;
    }
  }
  unsigned long long socket_drops = 0;
  FILE *f = fopen("/proc/self/net/udp", "r");
  if (f) {
    char line[512];
    while (fgets(line, sizeof line, f)) {
      unsigned lport;
      unsigned long long drops;
      char *last = strrchr(line, ' ');
      /* "sl local_address ..." : local_address is ADDR:PORT in hex; drops is the last column */
      if (sscanf(line, " %*d: %*x:%x", &lport) == 1 && lport == MPLS_UDP_PORT && last && sscanf(last, " %llu", &drops) == 1) socket_drops += drops;
    }
    fclose(f);
  }
  printf("{\"received\":%llu,\"forwarded\":%llu,\"dropped\":%llu,\"sendErrors\":%llu,\"batches\":%llu,\"socketDrops\":%llu}\n", received, forwarded,
         dropped, send_errors, batches, socket_drops);
  fflush(stdout);
  return 0;
}
