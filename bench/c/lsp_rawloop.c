/* bench/c/lsp_rawloop.c: the machine's ceiling for bench/prober-rate.ts, run in namespace A.
 *
 *   lsp_rawloop PACKET_HEX DST BIND_ADDR PORT SECONDS WINDOW BATCH PAYLOAD_OFFSET UDP_OFFSET NONCE
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

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int main(int argc, char **argv) {
  if (argc != 11) {
    fprintf(stderr, "usage: lsp_rawloop PACKET_HEX DST BIND_ADDR PORT SECONDS WINDOW BATCH PAYLOAD_OFFSET UDP_OFFSET NONCE\n");
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

  struct sockaddr_in dst = {.sin_family = AF_INET};
  struct sockaddr_in bnd = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[4]))};
  if (inet_pton(AF_INET, argv[2], &dst.sin_addr) != 1 || inet_pton(AF_INET, argv[3], &bnd.sin_addr) != 1) return 2;
  int raw = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
  int udp = socket(AF_INET, SOCK_DGRAM, 0);
  if (raw < 0 || udp < 0) { perror("lsp_rawloop: socket"); return 1; }
  int big = 4 << 20;
  setsockopt(udp, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  if (bind(udp, (struct sockaddr *)&bnd, sizeof bnd) < 0) { perror("lsp_rawloop: bind"); return 1; }
  pkt[uoff + 6] = 0; /* UDP checksum: none */
  pkt[uoff + 7] = 0;

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
      memcpy(pkt + poff + 12, &seq, 4);
      if (sendto(raw, pkt, len, 0, (struct sockaddr *)&dst, sizeof dst) < 0) send_errors++;
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
