/* bench/c/lsp_udpecho.c: UDP echo server for bench/rtt-overhead.ts, run in namespace B.
 *
 *   lsp_udpecho BIND_ADDR PORT REPLY_BYTES MAX_SECONDS
 *
 * Blocking recvfrom(2), then sendto(2) of the first REPLY_BYTES of the datagram back to its
 * sender: one userspace hop in B, like lsp_decap on the probe's path, and replies of the same
 * size as a probe's (the client sends a datagram as long as the probe's outer packet).
 * Prints {"ready":true} once bound; on SIGTERM/SIGINT its counters as one JSON line; dies with
 * its parent and after MAX_SECONDS.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t stop_flag = 0;
static void on_stop(int sig) { (void)sig; stop_flag = 1; }

int main(int argc, char **argv) {
  if (argc != 5) { fprintf(stderr, "usage: lsp_udpecho BIND_ADDR PORT REPLY_BYTES MAX_SECONDS\n"); return 2; }
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() == 1) return 1;
  alarm((unsigned)atoi(argv[4]));
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[2]))};
  if (inet_pton(AF_INET, argv[1], &a.sin_addr) != 1) return 2;
  size_t reply = (size_t)atoi(argv[3]);
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0) { perror("lsp_udpecho"); return 1; }
  printf("{\"ready\":true,\"pid\":%d}\n", (int)getpid());
  fflush(stdout);
  unsigned long long echoed = 0, errors = 0;
  unsigned char buf[2048];
  while (!stop_flag) {
    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    ssize_t n = recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
    if (n < 0) continue; /* EINTR */
    size_t m = (size_t)n < reply ? (size_t)n : reply;
    if (sendto(s, buf, m, 0, (struct sockaddr *)&from, fl) < 0) errors++;
    else echoed++;
  }
  printf("{\"echoed\":%llu,\"sendErrors\":%llu}\n", echoed, errors);
  fflush(stdout);
  return 0;
}
