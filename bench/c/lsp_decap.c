/* bench/c/lsp_decap.c: the benches' GRE reflector, run in namespace B.
 *
 *   lsp_decap MAX_SECONDS [6]
 *
 * Receives every GRE packet addressed to the namespace (raw socket, protocol 47; B has no GRE
 * module, so the raw socket is the only consumer and the kernel sends no ICMP), checks outer
 * IPv4 + plain GRE (no C/K/S bits, version 0, protocol 0x0800) + inner IPv4, strips the outer
 * IPv4 and GRE headers and sends the inner packet unchanged through an IPPROTO_RAW socket to
 * the inner destination. Batched with recvmmsg/sendmmsg so it is never the bottleneck of a
 * rate bench; with one packet waiting it behaves like recvfrom + sendto (the RTT bench).
 *
 * With "6": the same for GRE over IPv6 (RFC 7676), on AF_INET6 sockets: an IPv6 raw socket hands
 * over the payload without the IPv6 header, so a packet is GRE (no C/K/S bits, version 0,
 * protocol 0x86DD) + the inner IPv6 packet, sent unchanged through an AF_INET6 IPPROTO_RAW socket
 * (header included) to the inner destination. One process a family: run both for dual stack.
 *
 * Prints {"ready":true} once its sockets are open. On SIGTERM/SIGINT prints its counters as one
 * JSON line on stdout and exits 0; "socketDrops" is what the kernel dropped at its GRE socket
 * (receive buffer full), from the drops column of B's /proc/net/raw. Dies with its parent (PR_SET_PDEATHSIG) and after
 * MAX_SECONDS in any case (alarm).
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

  int v6 = argc > 2 && strcmp(argv[2], "6") == 0;
  int in = socket(v6 ? AF_INET6 : AF_INET, SOCK_RAW, IPPROTO_GRE);
  int out = socket(v6 ? AF_INET6 : AF_INET, SOCK_RAW, IPPROTO_RAW);
  if (in < 0 || out < 0) { perror("lsp_decap: socket"); return 1; }
  int big = 8 << 20;
  setsockopt(in, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
  setsockopt(out, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof big);

  static unsigned char bufs[BATCH][BUFSZ];
  struct mmsghdr rmsg[BATCH], smsg[BATCH];
  struct iovec riov[BATCH], siov[BATCH];
  struct sockaddr_in dst[BATCH];
  struct sockaddr_in6 dst6[BATCH];
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
      perror("lsp_decap: recvmmsg");
      break;
    }
    batches++;
    int k = 0;
    for (int i = 0; i < n; i++) {
      received++;
      const unsigned char *p = bufs[i];
      unsigned len = rmsg[i].msg_len;
      if (v6) {
        /* GRE header, then the inner IPv6 packet (40-byte header + payload length). */
        if (len < 4 + 40) { dropped++; continue; }
        unsigned flags6 = (p[0] << 8) | p[1];
        unsigned proto6 = (p[2] << 8) | p[3];
        const unsigned char *q = p + 4;
        unsigned ilen = 40 + ((q[4] << 8) | q[5]);
        if (flags6 != 0 || proto6 != 0x86DD || (q[0] >> 4) != 6 || ilen > len - 4) { dropped++; continue; }
        memset(&dst6[k], 0, sizeof dst6[k]);
        dst6[k].sin6_family = AF_INET6;
        memcpy(&dst6[k].sin6_addr, q + 24, 16);
        siov[k].iov_base = (void *)q;
        siov[k].iov_len = ilen;
        memset(&smsg[k], 0, sizeof smsg[k]);
        smsg[k].msg_hdr.msg_name = &dst6[k];
        smsg[k].msg_hdr.msg_namelen = sizeof dst6[k];
        smsg[k].msg_hdr.msg_iov = &siov[k];
        smsg[k].msg_hdr.msg_iovlen = 1;
        k++;
        continue;
      }
      if (len < 20 || (p[0] >> 4) != 4) { dropped++; continue; }
      unsigned ihl = (p[0] & 15) * 4;
      unsigned total = (p[2] << 8) | p[3];
      if (ihl < 20 || total > len || p[9] != IPPROTO_GRE || ihl + 4 + 20 > total) { dropped++; continue; }
      unsigned flags = (p[ihl] << 8) | p[ihl + 1];
      unsigned proto = (p[ihl + 2] << 8) | p[ihl + 3];
      if (flags != 0 || proto != 0x0800) { dropped++; continue; }
      const unsigned char *q = p + ihl + 4;
      unsigned itotal = (q[2] << 8) | q[3];
      if ((q[0] >> 4) != 4 || itotal < 20 || itotal > total - ihl - 4) { dropped++; continue; }
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
  FILE *f = fopen(v6 ? "/proc/self/net/raw6" : "/proc/self/net/raw", "r");
  if (f) {
    char line[512];
    while (fgets(line, sizeof line, f)) {
      unsigned proto;
      unsigned long long drops;
      char *last = strrchr(line, ' ');
      /* "sl local_address ..." : local_address is ADDR:PROTO in hex; drops is the last column */
      if (sscanf(line, v6 ? " %*d: %*32[0-9A-Fa-f]:%x" : " %*d: %*x:%x", &proto) == 1 && proto == IPPROTO_GRE && last && sscanf(last, " %llu", &drops) == 1) socket_drops += drops;
    }
    fclose(f);
  }
  printf("{\"received\":%llu,\"forwarded\":%llu,\"dropped\":%llu,\"sendErrors\":%llu,\"batches\":%llu,\"socketDrops\":%llu}\n", received, forwarded,
         dropped, send_errors, batches, socket_drops);
  fflush(stdout);
  return 0;
}
