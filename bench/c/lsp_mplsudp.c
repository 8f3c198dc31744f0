/* bench/c/lsp_mplsudp.c: bench/prober-rate's SR-MPLS label switcher, run in namespace B.
 *
 *   lsp_mplsudp MAX_SECONDS
 *
 * B's kernel has no MPLS forwarding, so this does what the first router of an SR-MPLS path does
 * for a one-label probe: receives MPLS-in-UDP (RFC 7510) on a UDP socket bound to port 6635 (the
 * kernel checks the outer UDP checksum), pops the one label stack entry (bottom of stack set:
 * B's Adj-SID back to A), and sends the inner IPv4 packet unchanged through an IPPROTO_RAW
 * socket to its destination. A stack of more than one label, or a payload that is not IPv4, is
 * dropped. Batched (lsp_reflect.h) as bench/c/lsp_decap.c, so it is not the bottleneck.
 *
 * Prints {"ready":true} once its sockets are open. On SIGTERM/SIGINT prints its counters as one
 * JSON line on stdout and exits 0; "socketDrops" is what the kernel dropped at its UDP socket
 * (the drops column of B's /proc/net/udp for port 6635). Dies with its parent (PR_SET_PDEATHSIG)
 * and after MAX_SECONDS in any case (alarm).
 */
#include "lsp_reflect.h"
#include <arpa/inet.h>
#include <stdlib.h>

#define MPLS_UDP_PORT 6635

/* One label stack entry (label 20 bits, TC 3, S 1, TTL 8) with S set, then IPv4: that packet. */
static int pop(unsigned char *p, unsigned len, struct reflect_send *out) {
  if (len < 4 + 20 || (p[2] & 1) == 0) return -1;
  const unsigned char *q = p + 4;
  unsigned itotal = (q[2] << 8) | q[3];
  if ((q[0] >> 4) != 4 || itotal < 20 || itotal > len - 4) return -1;
  reflect_to4(out, q, itotal, q + 16);
  return 0;
}

int main(int argc, char **argv) {
  unsigned limit = argc > 1 ? (unsigned)atoi(argv[1]) : 120;
  if (reflect_start(limit) < 0) return 1;
  int in = socket(AF_INET, SOCK_DGRAM, 0);
  int out = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
  if (in < 0 || out < 0) { perror("lsp_mplsudp: socket"); return 1; }
  struct sockaddr_in bnd = {.sin_family = AF_INET, .sin_port = htons(MPLS_UDP_PORT), .sin_addr = {htonl(INADDR_ANY)}};
  if (bind(in, (struct sockaddr *)&bnd, sizeof bnd) < 0) { perror("lsp_mplsudp: bind"); return 1; }
  struct reflect_counters c;
  reflect_loop(in, out, "lsp_mplsudp", pop, &c);
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
  reflect_print(&c, socket_drops);
  return 0;
}
