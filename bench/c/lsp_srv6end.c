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
 * silently (ipv6_srh_rcv). Anything else is counted as dropped. Batched (lsp_reflect.h) as
 * bench/c/lsp_mplsudp.c, so it is not the bottleneck.
 *
 * Prints {"ready":true} once its sockets are open. On SIGTERM/SIGINT prints its counters as one
 * JSON line on stdout and exits 0; "socketDrops" is what the kernel dropped at the packet socket
 * (PACKET_STATISTICS tp_drops). Dies with its parent (PR_SET_PDEATHSIG) and after MAX_SECONDS in
 * any case (alarm).
 */
#include "lsp_reflect.h"
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdlib.h>

#define IPV6_HEADER 40
#define SRH_FIXED 8
#define IPPROTO_ROUTING_HDR 43
#define SRH_ROUTING_TYPE 4

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

static struct in6_addr my_sid;

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

/* End on the packet in place, then send all of it (header included) to its new destination. */
static int end_check(unsigned char *p, unsigned len, struct reflect_send *out) {
  if (end_behavior(p, len, &my_sid) < 0) return -1;
  reflect_to6(out, p, IPV6_HEADER + ((p[4] << 8) | p[5]), p + 24);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: lsp_srv6end SID IFNAME [MAX_SECONDS]\n"); return 2; }
  if (inet_pton(AF_INET6, argv[1], &my_sid) != 1) { fprintf(stderr, "lsp_srv6end: SID %s: not an IPv6 address\n", argv[1]); return 2; }
  unsigned ifindex = if_nametoindex(argv[2]);
  if (ifindex == 0) { fprintf(stderr, "lsp_srv6end: interface %s: %s\n", argv[2], strerror(errno)); return 2; }
  unsigned limit = argc > 3 ? (unsigned)atoi(argv[3]) : 120;
  if (reflect_start(limit) < 0) return 1;

  int in = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IPV6));
  int out = socket(AF_INET6, SOCK_RAW, IPPROTO_RAW);
  if (in < 0 || out < 0) { perror("lsp_srv6end: socket"); return 1; }
  int one = 1;
  if (setsockopt(in, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) < 0) { perror("lsp_srv6end: PACKET_IGNORE_OUTGOING"); return 1; }
  struct sockaddr_ll bnd = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IPV6), .sll_ifindex = (int)ifindex};
  if (bind(in, (struct sockaddr *)&bnd, sizeof bnd) < 0) { perror("lsp_srv6end: bind"); return 1; }
  struct reflect_counters c;
  reflect_loop(in, out, "lsp_srv6end", end_check, &c);
  struct tpacket_stats st = {0};
  socklen_t stlen = sizeof st;
  getsockopt(in, SOL_PACKET, PACKET_STATISTICS, &st, &stlen);
  reflect_print(&c, st.tp_drops);
  return 0;
}
