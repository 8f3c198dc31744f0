/* bench/c/lsp_srv6end.c: bench/prober-rate's SRv6 End router in userspace, run in namespace B
 * when B's kernel has no seg6local (CONFIG_IPV6_SEG6_LWTUNNEL unset).
 *
 *   lsp_srv6end SID IFNAME MAX_SECONDS
 *
 * Does what a `seg6local action End` route for SID does (RFC 8986 §4.1): an IPv6 packet to SID
 * whose first header is a segment routing header (RFC 8754, routing type 4) with Segments Left
 * > 0 gets Segments Left - 1, the destination address Segment List[Segments Left], the hop limit
 * - 1, and is sent on through an IPPROTO_RAW socket. The UDP checksum stays right: it covers the
 * final destination (RFC 8200 §8.1). Packets come in on an AF_PACKET socket bound to IFNAME (the
 * whole IPv6 packet, header included; outgoing ones ignored), so B's kernel must not answer them
 * itself: the caller makes SID local on B with seg6_enabled 0, where the kernel drops an SRH
 * silently (ipv6_srh_rcv). Anything else is counted as dropped. Batched with recvmmsg/sendmmsg
 * as bench/c/lsp_mplsudp.c, so it is not the bottleneck.
 *
 * Prints {"ready":true} once its sockets are open. On SIGTERM/SIGINT prints its counters as one
 * JSON line on stdout and exits 0; "socketDrops" is what the kernel dropped at the packet socket
 * (PACKET_STATISTICS tp_drops). Dies with its parent (PR_SET_PDEATHSIG) and after MAX_SECONDS in
 * any case (alarm).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
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
#define IPV6_HEADER 40
#define SRH_FIXED 8
#define IPPROTO_ROUTING_HDR 43
#define SRH_ROUTING_TYPE 4

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

static volatile sig_atomic_t stop_flag = 0;
static void on_stop(int sig) { (void)sig; stop_flag = 1; }

/* The End behavior in place on p (len bytes); 0 when forwarded-to-be, -1 when dropped. */
static int end_behavior(unsigned char *p, unsigned len, const struct in6_addr *sid) {
  if (len < IPV6_HEADER + SRH_FIXED || (p[0] >> 4) != 6 || p[6] != IPPROTO_ROUTING_HDR) return -1;
  if (memcmp(p + 24, sid, 16) != 0 || IPV6_HEADER + ((p[4] << 8) | p[5]) > len) return -1;
  unsigned char *srh = p + IPV6_HEADER;
  unsigned srh_len = 8u * (srh[1] + 1u);
  unsigned segments_left = srh[3], last_entry = srh[4];
  if (srh[2] != SRH_ROUTING_TYPE || len < IPV6_HEADER + srh_len || SRH_FIXED + 16u * (last_entry + 1u) > srh_len) return -1;
  if (segments_left == 0 || segments_left > last_entry + 1u || p[7] <= 1) return -1;
  segments_left--;
  srh[3] = (unsigned char)segments_left;
  memcpy(p + 24, srh + SRH_FIXED + 16u * segments_left, 16);
  p[7]--;
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: lsp_srv6end SID IFNAME [MAX_SECONDS]\n"); return 2; }
  struct in6_addr sid;
  if (inet_pton(AF_INET6, argv[1], &sid) != 1) { fprintf(stderr, "lsp_srv6end: SID %s: not an IPv6 address\n", argv[1]); return 2; }
  unsigned ifindex = if_nametoindex(argv[2]);
  if (ifindex == 0) { fprintf(stderr, "lsp_srv6end: interface %s: %s\n", argv[2], strerror(errno)); return 2; }
  unsigned limit = argc > 3 ? (unsigned)atoi(argv[3]) : 120;
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() == 1) return 1;
  alarm(limit);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop; /* no SA_RESTART: recvmmsg returns EINTR */
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);

  int in = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IPV6));
  int out = socket(AF_INET6, SOCK_RAW, IPPROTO_RAW);
  if (in < 0 || out < 0) { perror("lsp_srv6end: socket"); return 1; }
  int big = 8 << 20, one = 1;
  setsockopt(in, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
  setsockopt(out, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof big);
  if (setsockopt(in, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) < 0) { perror("lsp_srv6end: PACKET_IGNORE_OUTGOING"); return 1; }
  struct sockaddr_ll bnd = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IPV6), .sll_ifindex = (int)ifindex};
  if (bind(in, (struct sockaddr *)&bnd, sizeof bnd) < 0) { perror("lsp_srv6end: bind"); return 1; }

  static unsigned char bufs[BATCH][BUFSZ];
  struct mmsghdr rmsg[BATCH], smsg[BATCH];
  struct iovec riov[BATCH], siov[BATCH];
  struct sockaddr_in6 dst[BATCH];
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
      perror("lsp_srv6end: recvmmsg");
      break;
    }
    batches++;
    int k = 0;
    for (int i = 0; i < n; i++) {
      received++;
      unsigned char *p = bufs[i];
      unsigned len = rmsg[i].msg_len;
      if (end_behavior(p, len, &sid) < 0) { dropped++; continue; }
      memset(&dst[k], 0, sizeof dst[k]);
      dst[k].sin6_family = AF_INET6;
      memcpy(&dst[k].sin6_addr, p + 24, 16);
      siov[k].iov_base = p;
      siov[k].iov_len = IPV6_HEADER + ((p[4] << 8) | p[5]);
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
  struct tpacket_stats st = {0};
  socklen_t stlen = sizeof st;
  getsockopt(in, SOL_PACKET, PACKET_STATISTICS, &st, &stlen);
  printf("{\"received\":%llu,\"forwarded\":%llu,\"dropped\":%llu,\"sendErrors\":%llu,\"batches\":%llu,\"socketDrops\":%u}\n", received, forwarded,
         dropped, send_errors, batches, st.tp_drops);
  fflush(stdout);
  return 0;
}
