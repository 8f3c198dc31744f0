/* bench/c/lsp_grertt.c: C reference RTT over the probe's own path, for bench/rtt-overhead.ts,
 * run in namespace A.
 *
 *   lsp_grertt PACKET_HEX HOP BIND_ADDR PORT COUNT RATE PAYLOAD_OFFSET UDP_OFFSET
 *
 * Sends the bytes of an lsprobe ProbeTemplate (GRE to HOP, inner UDP back to BIND_ADDR:PORT)
 * COUNT times, one every 1/RATE s on an absolute schedule, through an IPPROTO_RAW socket, with the
 * 32-bit sequence written into the payload (UDP checksum set to 0: none); lsp_decap in B sends
 * the inner packet back to a UDP socket bound to BIND_ADDR:PORT. Timed with clock_gettime
 * (CLOCK_MONOTONIC) just before sendto(2) and just after the blocking recv(2) of the matching
 * reply returns (1 s timeout). Same packets, same reflector as the prober: only the endpoint
 * differs. The reply's kernel receive time (SO_TIMESTAMPNS, CLOCK_REALTIME, brought to
 * CLOCK_MONOTONIC with both clocks read after the recv) gives a second RTT, timed as the prober
 * times it (prober/udprx.ts): without the wake-up from recv(2). Prints one JSON line:
 * {"rttNs":[...], "kernelRttNs":[...], "lost":n}.
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
#include <time.h>
#include <unistd.h>

static int64_t ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 9) { fprintf(stderr, "usage: lsp_grertt PACKET_HEX HOP BIND_ADDR PORT COUNT RATE PAYLOAD_OFFSET UDP_OFFSET\n"); return 2; }
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() == 1) return 1;
  const char *hex = argv[1];
  size_t len = strlen(hex) / 2;
  unsigned char pkt[2048], in[2048];
  if (len > sizeof pkt || len < 20) return 2;
  for (size_t i = 0; i < len; i++) pkt[i] = (unsigned char)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
  int count = atoi(argv[5]);
  double rate = atof(argv[6]);
  unsigned poff = (unsigned)atoi(argv[7]), uoff = (unsigned)atoi(argv[8]);
  alarm((unsigned)(count / rate) + 30);
  struct sockaddr_in hop = {.sin_family = AF_INET}, b = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[4]))};
  if (inet_pton(AF_INET, argv[2], &hop.sin_addr) != 1 || inet_pton(AF_INET, argv[3], &b.sin_addr) != 1) return 2;
  int raw = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
  int udp = socket(AF_INET, SOCK_DGRAM, 0);
  if (raw < 0 || udp < 0 || bind(udp, (struct sockaddr *)&b, sizeof b) < 0) { perror("lsp_grertt"); return 1; }
  struct timeval tv = {.tv_sec = 1};
  setsockopt(udp, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  int on = 1;
  if (setsockopt(udp, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) < 0) { perror("lsp_grertt: SO_TIMESTAMPNS"); return 1; }
  pkt[uoff + 6] = 0;
  pkt[uoff + 7] = 0;
  int64_t *rtt = calloc((size_t)count, sizeof *rtt), *krtt = calloc((size_t)count, sizeof *krtt);
  int got = 0, lost = 0;
  struct timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  int64_t step = (int64_t)(1e9 / rate);
  for (int i = 0; i < count; i++) {
    next.tv_nsec += step;
    while (next.tv_nsec >= 1000000000) { next.tv_nsec -= 1000000000; next.tv_sec++; }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR) {}
    uint32_t seq = htonl((uint32_t)i);
    memcpy(pkt + poff + 12, &seq, 4);
    int64_t t1 = ns();
    if (sendto(raw, pkt, len, 0, (struct sockaddr *)&hop, sizeof hop) < 0) { lost++; continue; }
    for (;;) {
      union { struct cmsghdr align; char buf[64]; } ctl;
      struct iovec iov = {.iov_base = in, .iov_len = sizeof in};
      struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
      ssize_t n = recvmsg(udp, &mh, 0);
      int64_t t2 = ns();
      if (n < 0) { lost++; break; }
      struct timespec rt;
      clock_gettime(CLOCK_REALTIME, &rt);
      int64_t offset = (int64_t)rt.tv_sec * 1000000000 + rt.tv_nsec - ns();
      int64_t arrival = t2;
      for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
          struct timespec k;
          memcpy(&k, CMSG_DATA(c), sizeof k);
          arrival = (int64_t)k.tv_sec * 1000000000 + k.tv_nsec - offset;
        }
      uint32_t back;
      if (n < 16) continue;
      memcpy(&back, in + 12, 4);
      if (back != seq) continue; /* a stale reply */
      krtt[got] = arrival - t1;
      rtt[got++] = t2 - t1;
      break;
    }
  }
  printf("{\"rttNs\":[");
  for (int i = 0; i < got; i++) printf(i ? ",%lld" : "%lld", (long long)rtt[i]);
  printf("],\"kernelRttNs\":[");
  for (int i = 0; i < got; i++) printf(i ? ",%lld" : "%lld", (long long)krtt[i]);
  printf("],\"lost\":%d}\n", lost);
  return 0;
}
