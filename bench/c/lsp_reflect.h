/* bench/c/lsp_reflect.h: what the benches' reflectors in namespace B share (lsp_decap,
 * lsp_mplsudp, lsp_srv6end): dying with the parent and after MAX_SECONDS, stopping on
 * SIGTERM/SIGINT, and the batch loop: recvmmsg up to BATCH packets, the program's own check of
 * each (which part to send on, and where; or drop it), sendmmsg of what it kept, counters.
 * Batched so a reflector is never the bottleneck of a rate bench; with one packet waiting it
 * behaves like recvfrom + sendto (the RTT bench).
 */
#ifndef LSP_REFLECT_H
#define LSP_REFLECT_H
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64
#define BUFSZ 2048

/* What to send for one received packet: `len` bytes at `data` to `dst`. */
struct reflect_send {
  const void *data;
  size_t len;
  struct sockaddr_storage dst;
  socklen_t dstlen;
};

/* The program's check of one packet (p, len bytes, writable): 0 and *out filled, or -1 (dropped). */
typedef int (*reflect_fn)(unsigned char *p, unsigned len, struct reflect_send *out);

/* `len` bytes at `data` to the IPv4 address at a4 / the IPv6 address at a6 (network order). */
static inline void reflect_to4(struct reflect_send *s, const void *data, size_t len, const unsigned char *a4) {
  struct sockaddr_in *d = (struct sockaddr_in *)&s->dst;
  memset(d, 0, sizeof *d);
  d->sin_family = AF_INET;
  memcpy(&d->sin_addr, a4, 4);
  s->dstlen = sizeof *d;
  s->data = data;
  s->len = len;
}
static inline void reflect_to6(struct reflect_send *s, const void *data, size_t len, const unsigned char *a6) {
  struct sockaddr_in6 *d = (struct sockaddr_in6 *)&s->dst;
  memset(d, 0, sizeof *d);
  d->sin6_family = AF_INET6;
  memcpy(&d->sin6_addr, a6, 16);
  s->dstlen = sizeof *d;
  s->data = data;
  s->len = len;
}

struct reflect_counters {
  unsigned long long received, forwarded, dropped, send_errors, batches;
};

static volatile sig_atomic_t reflect_stop = 0;
static void reflect_on_stop(int sig) { (void)sig; reflect_stop = 1; }

/* Dies with its parent and after `limit` seconds; SIGTERM/SIGINT end the loop. -1: the parent is already gone. */
static int reflect_start(unsigned limit) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() == 1) return -1;
  alarm(limit);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = reflect_on_stop; /* no SA_RESTART: recvmmsg returns EINTR */
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  return 0;
}

/* 8 MiB socket buffers both ways, {"ready":true} on stdout, then the loop until told to stop. */
static void reflect_loop(int in, int out, const char *who, reflect_fn check, struct reflect_counters *c) {
  int big = 8 << 20;
  setsockopt(in, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
  setsockopt(out, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof big);
  static unsigned char bufs[BATCH][BUFSZ];
  static struct reflect_send sends[BATCH];
  struct mmsghdr rmsg[BATCH], smsg[BATCH];
  struct iovec riov[BATCH], siov[BATCH];
  memset(rmsg, 0, sizeof rmsg);
  for (int i = 0; i < BATCH; i++) {
    riov[i].iov_base = bufs[i];
    riov[i].iov_len = BUFSZ;
    rmsg[i].msg_hdr.msg_iov = &riov[i];
    rmsg[i].msg_hdr.msg_iovlen = 1;
  }
  memset(c, 0, sizeof *c);
  printf("{\"ready\":true,\"pid\":%d}\n", (int)getpid());
  fflush(stdout);

  while (!reflect_stop) {
    int n = recvmmsg(in, rmsg, BATCH, MSG_WAITFORONE, NULL);
    if (n < 0) {
      if (errno == EINTR) continue;
      fprintf(stderr, "%s: recvmmsg: %s\n", who, strerror(errno));
      break;
    }
    c->batches++;
    int k = 0;
    for (int i = 0; i < n; i++) {
      c->received++;
      struct reflect_send *s = &sends[k];
      if (check(bufs[i], rmsg[i].msg_len, s) < 0) { c->dropped++; continue; }
      siov[k].iov_base = (void *)s->data;
      siov[k].iov_len = s->len;
      memset(&smsg[k], 0, sizeof smsg[k]);
      smsg[k].msg_hdr.msg_name = &s->dst;
      smsg[k].msg_hdr.msg_namelen = s->dstlen;
      smsg[k].msg_hdr.msg_iov = &siov[k];
      smsg[k].msg_hdr.msg_iovlen = 1;
      k++;
    }
    int done = 0;
    while (done < k) {
      int m = sendmmsg(out, smsg + done, k - done, 0);
      if (m < 0) {
        if (errno == EINTR) continue;
        c->send_errors++; /* skip the packet that failed */
        done++;
        continue;
      }
      c->forwarded += m;
      done += m;
    }
  }
}

/* The counters as one JSON line on stdout; socket_drops: what the kernel dropped at the receiving socket. */
static void reflect_print(const struct reflect_counters *c, unsigned long long socket_drops) {
  printf("{\"received\":%llu,\"forwarded\":%llu,\"dropped\":%llu,\"sendErrors\":%llu,\"batches\":%llu,\"socketDrops\":%llu}\n", c->received, c->forwarded,
         c->dropped, c->send_errors, c->batches, socket_drops);
  fflush(stdout);
}
#endif
