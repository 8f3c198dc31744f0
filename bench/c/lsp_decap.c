/* bench/c/lsp_decap.c: the benches' GRE reflector, run in namespace B.
 *
 *   lsp_decap MAX_SECONDS [6]
 *
 * Receives every GRE packet addressed to the namespace (raw socket, protocol 47; B has no GRE
 * module, so the raw socket is the only consumer and the kernel sends no ICMP), checks outer
 * IPv4 + plain GRE (no C/K/S bits, version 0, protocol 0x0800) + inner IPv4, strips the outer
 * IPv4 and GRE headers and sends the inner packet unchanged through an IPPROTO_RAW socket to
 * the inner destination. Batched (lsp_reflect.h) so it is never the bottleneck of a rate bench;
 * with one packet waiting it behaves like recvfrom + sendto (the RTT bench).
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
#include "lsp_reflect.h"
#include <arpa/inet.h>
#include <stdlib.h>

/* Outer IPv4 + plain GRE (no C/K/S bits, version 0, protocol 0x0800) + inner IPv4: the inner packet. */
static int decap4(unsigned char *p, unsigned len, struct reflect_send *out) {
  if (len < 20 || (p[0] >> 4) != 4) return -1;
  unsigned ihl = (p[0] & 15) * 4;
  unsigned total = (p[2] << 8) | p[3];
  if (ihl < 20 || total > len || p[9] != IPPROTO_GRE || ihl + 4 + 20 > total) return -1;
  unsigned flags = (p[ihl] << 8) | p[ihl + 1];
  unsigned proto = (p[ihl + 2] << 8) | p[ihl + 3];
  if (flags != 0 || proto != 0x0800) return -1;
  const unsigned char *q = p + ihl + 4;
  unsigned itotal = (q[2] << 8) | q[3];
  if ((q[0] >> 4) != 4 || itotal < 20 || itotal > total - ihl - 4) return -1;
  reflect_to4(out, q, itotal, q + 16);
  return 0;
}

/* GRE header, then the inner IPv6 packet (40-byte header + payload length). */
static int decap6(unsigned char *p, unsigned len, struct reflect_send *out) {
  if (len < 4 + 40) return -1;
  unsigned flags6 = (p[0] << 8) | p[1];
  unsigned proto6 = (p[2] << 8) | p[3];
  const unsigned char *q = p + 4;
  unsigned ilen = 40 + ((q[4] << 8) | q[5]);
  if (flags6 != 0 || proto6 != 0x86DD || (q[0] >> 4) != 6 || ilen > len - 4) return -1;
  reflect_to6(out, q, ilen, q + 24);
  return 0;
}

int main(int argc, char **argv) {
  unsigned limit = argc > 1 ? (unsigned)atoi(argv[1]) : 120;
  if (reflect_start(limit) < 0) return 1;
  int v6 = argc > 2 && strcmp(argv[2], "6") == 0;
  int in = socket(v6 ? AF_INET6 : AF_INET, SOCK_RAW, IPPROTO_GRE);
  int out = socket(v6 ? AF_INET6 : AF_INET, SOCK_RAW, IPPROTO_RAW);
  if (in < 0 || out < 0) { perror("lsp_decap: socket"); return 1; }
  struct reflect_counters c;
  reflect_loop(in, out, "lsp_decap", v6 ? decap6 : decap4, &c);
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
  reflect_print(&c, socket_drops);
  return 0;
}
