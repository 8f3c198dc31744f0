/* bench/c/lsp_udprtt.c: the C reference RTT for bench/rtt-overhead.ts, run in namespace A.
 *
 *   lsp_udprtt BIND_ADDR DST_ADDR PORT COUNT RATE REQUEST_BYTES REPLY_BYTES
 *
 * COUNT datagrams of REQUEST_BYTES to DST_ADDR:PORT (lsp_udpecho in B), one every 1/RATE s on an
 * absolute schedule (clock_nanosleep TIMER_ABSTIME), each timed with clock_gettime
 * (CLOCK_MONOTONIC) just before sendto(2) and just after the blocking recv(2) of its echo
 * returns (1 s timeout). The sequence number in the datagram must come back (stale echoes are
 * skipped). Prints one JSON line: {"rttNs":[...], "lost":n, "wrongSize":n}.
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

int main(int argc, char **argv) {
  if (argc != 8) { fprintf(stderr, "usage: lsp_udprtt BIND_ADDR DST_ADDR PORT COUNT RATE REQUEST_BYTES REPLY_BYTES\n"); return 2; }
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() == 1) return 1;
  int count = atoi(argv[4]);
  double rate = atof(argv[5]);
  size_t req = (size_t)atoi(argv[6]), rep = (size_t)atoi(argv[7]);
  alarm((unsigned)(count / rate) + 30);
  struct sockaddr_in b = {.sin_family = AF_INET}, d = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[3]))};
  if (inet_pton(AF_INET, argv[1], &b.sin_addr) != 1 || inet_pton(AF_INET, argv[2], &d.sin_addr) != 1) return 2;
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  if (s < 0 || bind(s, (struct sockaddr *)&b, sizeof b) < 0 || connect(s, (struct sockaddr *)&d, sizeof d) < 0) { perror("lsp_udprtt"); return 1; }
  struct timeval tv = {.tv_sec = 1};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  unsigned char out[2048], in[2048];
  if (req > sizeof out || req < 8) return 2;
  memset(out, 0, sizeof out);
  int64_t *rtt = calloc((size_t)count, sizeof *rtt);
  int got = 0, lost = 0, wrong = 0;
  struct timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  int64_t step = (int64_t)(1e9 / rate);
  for (int i = 0; i < count; i++) {
    next.tv_nsec += step;
    while (next.tv_nsec >= 1000000000) { next.tv_nsec -= 1000000000; next.tv_sec++; }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR) {}
    uint32_t seq = htonl((uint32_t)i);
    memcpy(out + 4, &seq, 4);
    int64_t t1 = ns();
    if (send(s, out, req, 0) < 0) { lost++; continue; }
    for (;;) {
      ssize_t n = recv(s, in, sizeof in, 0);
      int64_t t2 = ns();
      if (n < 0) { lost++; break; }
      uint32_t back;
      memcpy(&back, in + 4, 4);
      if (n < 8 || back != seq) continue; /* a stale echo */
      if ((size_t)n != rep) wrong++;
      rtt[got++] = t2 - t1;
      break;
    }
  }
  printf("{\"rttNs\":[");
  for (int i = 0; i < got; i++) printf(i ? ",%lld" : "%lld", (long long)rtt[i]);
  printf("],\"lost\":%d,\"wrongSize\":%d}\n", lost, wrong);
  return 0;
}
