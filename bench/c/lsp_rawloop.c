/* bench/c/lsp_rawloop.c: the machine's ceiling for bench/prober-rate.ts, run in namespace A.
 *
 *   lsp_rawloop PACKET_HEX DST BIND_ADDR PORT SECONDS WINDOW BATCH PAYLOAD_OFFSET UDP_OFFSET NONCE [CSUM_OFFSETS]
 *
 * The minimal C equivalent of the prober's hot path: one prebuilt probe (the bytes of an lsprobe
 * ProbeTemplate, passed in hex), per probe the 32-bit sequence written into the payload and one
 * sendto(2) on an IPPROTO_RAW socket; the replies read with recv(2) (MSG_DONTWAIT) from a UDP
 * socket bound to BIND_ADDR:PORT and matched by magic, nonce and sequence (each sequence once).
 * The UDP checksum is set to 0 (none, legal for IPv4) instead of being updated: the C side does
 * strictly less work than lsprobe. Same flow control as the node hot path: at most WINDOW probes
 * outstanding, at most BATCH sent between two drains of the UDP socket; probes not back 200 ms
 * after the window stalls are written off (for the window only: lost = sent - matched at the end).
 *
 * With CSUM_OFFSETS (comma-separated offsets of UDP headers, outermost first, e.g. "20,52" for an
 * MPLS-in-UDP probe: the outer UDP header and the probe's own) each of those checksums is updated
 * incrementally for the new sequence (RFC 1624, eqn. 3), an outer one for the inner ones' change
 * too, instead: IPv6 needs a checksum, and an outer UDP
 * checksum covers the probe. DST and BIND_ADDR may be IPv6 (an SRv6 probe: AF_INET6 sockets; the
 * packet's IPv6 header is sent as is, DST the first segment).
 *
 * Prints one JSON line: sent, matched, lost, duplicates, sendErrors, wall and CPU seconds of the
 * timed part (CLOCK_PROCESS_CPUTIME_ID). Dies with its parent and after SECONDS + 30 in any case.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SEQ (1u << 27)
static uint8_t seen[MAX_SEQ / 8];

static double now_s(clockid_t c) {
  struct timespec t;
  clock_gettime(c, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

/* RFC 1624 eqn. 3: the checksum at c after the 16-bit word `from` became `to`. */
static void csum_update(unsigned char *c, uint16_t from, uint16_t to) {
  uint32_t sum = (uint16_t)~((c[0] << 8) | c[1]);
  sum += (uint16_t)~from;
  sum += to;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  uint16_t r = (uint16_t)~sum;
  c[0] = (unsigned char)(r >> 8);
  c[1] = (unsigned char)r;
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int main(int argc, char **argv) {
  if (argc != 11 && argc != 12) {
    fprintf(stderr, "usage: lsp_rawloop PACKET_HEX DST BIND_ADDR PORT SECONDS WINDOW BATCH PAYLOAD_OFFSET UDP_OFFSET NONCE [CSUM_OFFSETS]\n");
    return 2;
  }
  const char *hex = argv[1];
  size_t len = strlen(hex) / 2;
  unsigned char pkt[2048];
  if (len > sizeof pkt || len < 20) return 2;
  for (size_t i = 0; i < len; i++) pkt[i] = (unsigned char)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
  double seconds = atof(argv[5]);
  unsigned window = (unsigned)atoi(argv[6]);
  unsigned batch = (unsigned)atoi(argv[7]);
  unsigned poff = (unsigned)atoi(argv[8]);
  unsigned uoff = (unsigned)atoi(argv[9]);
  uint32_t nonce = (uint32_t)strtoul(argv[10], NULL, 10);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() == 1) return 1;
  alarm((unsigned)seconds + 30);

  int v6 = strchr(argv[2], ':') != NULL;
  uint16_t port = htons((uint16_t)atoi(argv[4]));
  struct sockaddr_storage dst_ss, bnd_ss;
  memset(&dst_ss, 0, sizeof dst_ss);
  memset(&bnd_ss, 0, sizeof bnd_ss);
  socklen_t salen;
  if (v6) {
    struct sockaddr_in6 *d = (struct sockaddr_in6 *)&dst_ss, *b = (struct sockaddr_in6 *)&bnd_ss;
    d->sin6_family = b->sin6_family = AF_INET6;
    b->sin6_port = port;
    if (inet_pton(AF_INET6, argv[2], &d->sin6_addr) != 1 || inet_pton(AF_INET6, argv[3], &b->sin6_addr) != 1) return 2;
    salen = sizeof(struct sockaddr_in6);
  } else {
    struct sockaddr_in *d = (struct sockaddr_in *)&dst_ss, *b = (struct sockaddr_in *)&bnd_ss;
    d->sin_family = b->sin_family = AF_INET;
    b->sin_port = port;
    if (inet_pton(AF_INET, argv[2], &d->sin_addr) != 1 || inet_pton(AF_INET, argv[3], &b->sin_addr) != 1) return 2;
    salen = sizeof(struct sockaddr_in);
  }
  int raw = socket(v6 ? AF_INET6 : AF_INET, SOCK_RAW, IPPROTO_RAW);
  int udp = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
  if (raw < 0 || udp < 0) { perror("lsp_rawloop: socket"); return 1; }
  int big = 4 << 20;
  setsockopt(udp, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  if (bind(udp, (struct sockaddr *)&bnd_ss, salen) < 0) { perror("lsp_rawloop: bind"); return 1; }
  unsigned csums[8], ncsums = 0;
  if (argc == 12) {
    for (char *t = strtok(argv[11], ","); t && ncsums < 8; t = strtok(NULL, ",")) csums[ncsums++] = (unsigned)atoi(t) + 6;
    for (unsigned i = 0; i < ncsums; i++) if (csums[i] + 2 > len) return 2;
  } else {
    pkt[uoff + 6] = 0; /* UDP checksum: none */
    pkt[uoff + 7] = 0;
  }

  unsigned long long sent = 0, matched = 0, written_off = 0, lost = 0, dups = 0, bad = 0, send_errors = 0;
  unsigned char rbuf[2048];
  double w0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
  double end = w0 + seconds;
  unsigned long long iter = 0;
  for (;;) {
    if ((++iter & 63) == 0 && now_s(CLOCK_MONOTONIC) >= end) break;
    unsigned k = 0;
    while (k < batch && sent - matched - written_off < window && sent < MAX_SEQ) {
      uint32_t seq = htonl((uint32_t)sent);
      if (ncsums > 0) {
        /* the sequence's two 16-bit words, old and new, into every checksum covering them */
        uint16_t o0 = (uint16_t)((pkt[poff + 12] << 8) | pkt[poff + 13]), o1 = (uint16_t)((pkt[poff + 14] << 8) | pkt[poff + 15]);
        uint16_t n0 = (uint16_t)(sent >> 16), n1 = (uint16_t)sent;
        uint16_t cold[8];
        for (unsigned i = 0; i < ncsums; i++) cold[i] = (uint16_t)((pkt[csums[i]] << 8) | pkt[csums[i] + 1]);
        /* innermost first: an outer checksum also covers the inner checksums just changed */
        for (unsigned i = ncsums; i-- > 0;) {
          csum_update(pkt + csums[i], o0, n0);
          csum_update(pkt + csums[i], o1, n1);
          for (unsigned j = i + 1; j < ncsums; j++) csum_update(pkt + csums[i], cold[j], (uint16_t)((pkt[csums[j]] << 8) | pkt[csums[j] + 1]));
        }
      }
      memcpy(pkt + poff + 12, &seq, 4);
      if (sendto(raw, pkt, len, 0, (struct sockaddr *)&dst_ss, salen) < 0) send_errors++;
      sent++; /* a failed send is never matched: it ends as lost, as in the prober */
      k++;
    }
    unsigned got = 0;
    for (;;) {
      ssize_t n = recv(udp, rbuf, sizeof rbuf, MSG_DONTWAIT);
      if (n < 0) break;
      got++;
      uint32_t magic, s, nn;
      if (n < 44) { bad++; continue; }
      memcpy(&magic, rbuf, 4); memcpy(&s, rbuf + 12, 4); memcpy(&nn, rbuf + 24, 4);
      magic = ntohl(magic); s = ntohl(s); nn = ntohl(nn);
      if (magic != 0x4C535052 || nn != nonce || s >= sent) { bad++; continue; }
      if (seen[s >> 3] & (1 << (s & 7))) { dups++; continue; }
      seen[s >> 3] |= (uint8_t)(1 << (s & 7));
      matched++;
    }
    if (k == 0 && got == 0) {
      struct pollfd pf = {.fd = udp, .events = POLLIN};
      if (poll(&pf, 1, 200) == 0) written_off = sent - matched; /* window stalled: give up on the rest */
    }
  }
  double w1 = now_s(CLOCK_MONOTONIC), c1 = now_s(CLOCK_PROCESS_CPUTIME_ID);
  /* Stragglers: replies of probes sent before the end still count as matched. */
  double dl = w1 + 0.3;
  while (now_s(CLOCK_MONOTONIC) < dl && matched < sent) {
    struct pollfd pf = {.fd = udp, .events = POLLIN};
    if (poll(&pf, 1, 50) <= 0) continue;
    ssize_t n = recv(udp, rbuf, sizeof rbuf, MSG_DONTWAIT);
    if (n < 44) continue;
    uint32_t magic, s, nn;
    memcpy(&magic, rbuf, 4); memcpy(&s, rbuf + 12, 4); memcpy(&nn, rbuf + 24, 4);
    magic = ntohl(magic); s = ntohl(s); nn = ntohl(nn);
    if (magic != 0x4C535052 || nn != nonce || s >= sent || (seen[s >> 3] & (1 << (s & 7)))) continue;
    seen[s >> 3] |= (uint8_t)(1 << (s & 7));
    matched++;
  }
  lost = sent - matched;
  printf("{\"sent\":%llu,\"matched\":%llu,\"lost\":%llu,\"duplicates\":%llu,\"bad\":%llu,\"sendErrors\":%llu,\"wallS\":%.6f,\"cpuS\":%.6f}\n",
         sent, matched, lost, dups, bad, send_errors, w1 - w0, c1 - c0);
  return 0;
}
