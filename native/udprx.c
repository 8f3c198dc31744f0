/* native/udprx.c: the prober's reply socket. A UDP socket read in batches (recvmmsg(2)) with
 * each datagram's kernel arrival time (SO_TIMESTAMPNS), for prober/udprx.ts.
 *
 * Why native: node:dgram reads with recvmsg but drops the control messages, so the only arrival
 * time JavaScript can take is the clock read in the 'message' callback, after the kernel woke
 * the process and libuv and V8 ran. On a 2-vCPU VM that wake-up alone is 70-230 us at the
 * median (bench/rtt-overhead.ts measures it with C on both sides), more than the RTT error the
 * prober may add. The kernel stamps the datagram when it enters the receiving stack
 * (SO_TIMESTAMPNS: CLOCK_REALTIME, struct timespec); it is handed over as CLOCK_MONOTONIC
 * nanoseconds, the clock of process.hrtime(), converted with both clocks read once per batch.
 *
 * The JavaScript side owns the memory: one Buffer of BATCH slots of SLOT bytes, an Int32Array of
 * lengths and a Float64Array of arrival times, passed to start() and filled in place; the
 * callback gets only the count, so a batch costs one call into JavaScript and no allocation.
 * A datagram longer than its slot is cut (its length is then the slot's, and MSG_TRUNC is
 * counted): no probe reply is that long.
 *
 *   open(family 4|6, address, port, rcvbuf) -> handle      throws Error{code, errno, syscall}
 *   start(handle, buffer, slot, lengths, stamps, callback(count))
 *   recvBufferSize(handle) -> bytes                         (what the kernel set; it doubles)
 *   truncated(handle) -> count
 *   close(handle)
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_BATCH 64
/* Batches read per readable event before yielding to the event loop (timers, HTTP). */
#define MAX_ROUNDS 8

typedef struct {
  int fd;
  uv_poll_t poll;
  int polling;   /* poll initialised and not yet closed */
  int closing;   /* uv_close() called, its callback not yet run */
  int finalized; /* the JS handle is gone: free once the poll has closed */
  napi_env env;
  napi_ref callback, buffer, lengths, stamps;
  napi_async_context async;
  unsigned char *data;
  size_t slot;
  int32_t *len;
  double *stamp;
  unsigned batch;
  double truncated;
  struct mmsghdr msgs[MAX_BATCH];
  struct iovec iov[MAX_BATCH];
  /* CMSG_SPACE(sizeof(struct timespec)) with room to spare, aligned. */
  union { struct cmsghdr align; char buf[64]; } ctl[MAX_BATCH];
} Rx;

#define CALL(env, x)                                    \
  do {                                                  \
    if ((x) != napi_ok) {                               \
      napi_throw_error((env), NULL, "udprx: " #x " failed"); \
      return NULL;                                      \
    }                                                   \
  } while (0)

static napi_value throw_errno(napi_env env, const char *syscall, int err, const char *what) {
  char msg[256];
  const char *code = err == EADDRINUSE ? "EADDRINUSE" : err == EADDRNOTAVAIL ? "EADDRNOTAVAIL" : err == EACCES ? "EACCES" : err == EINVAL ? "EINVAL" : err == EPERM ? "EPERM" : err == EAFNOSUPPORT ? "EAFNOSUPPORT" : "E";
  snprintf(msg, sizeof msg, "%s %s %s (%s)", syscall, code, what, strerror(err));
  napi_value m, c, e, n, s;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &c);
  napi_create_error(env, c, m, &e);
  napi_create_int32(env, -err, &n);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &s);
  napi_set_named_property(env, e, "errno", n);
  napi_set_named_property(env, e, "syscall", s);
  napi_throw(env, e);
  return NULL;
}

static Rx *unwrap(napi_env env, napi_value v) {
  Rx *rx = NULL;
  if (napi_get_value_external(env, v, (void **)&rx) != napi_ok || rx == NULL) {
    napi_throw_type_error(env, NULL, "udprx: not a socket handle");
    return NULL;
  }
  return rx;
}

static void release(Rx *rx) {
  if (rx->callback) napi_delete_reference(rx->env, rx->callback);
  if (rx->buffer) napi_delete_reference(rx->env, rx->buffer);
  if (rx->lengths) napi_delete_reference(rx->env, rx->lengths);
  if (rx->stamps) napi_delete_reference(rx->env, rx->stamps);
  if (rx->async) napi_async_destroy(rx->env, rx->async);
  rx->callback = rx->buffer = rx->lengths = rx->stamps = NULL;
  rx->async = NULL;
}

static void on_poll_closed(uv_handle_t *h) {
  Rx *rx = h->data;
  rx->polling = rx->closing = 0;
  if (rx->finalized) free(rx);
}

/* Stops reading: the poll handle closes (asynchronously), the socket is closed. */
static void shut(Rx *rx) {
  if (rx->polling && !rx->closing) {
    uv_poll_stop(&rx->poll);
    rx->closing = 1;
    uv_close((uv_handle_t *)&rx->poll, on_poll_closed);
  }
  if (rx->fd >= 0) close(rx->fd);
  rx->fd = -1;
}

/* The handle's finalizer: closed if close() was not called; freed once the poll has closed. */
static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  Rx *rx = data;
  release(rx);
  shut(rx);
  rx->finalized = 1;
  if (!rx->polling) free(rx);
}

static int64_t clock_ns(clockid_t id) {
  struct timespec t;
  clock_gettime(id, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* One recvmmsg: fills the JS arrays, returns the count (0 when nothing is queued, -1 on error). */
static int read_batch(Rx *rx) {
  for (unsigned i = 0; i < rx->batch; i++) {
    rx->iov[i].iov_base = rx->data + (size_t)i * rx->slot;
    rx->iov[i].iov_len = rx->slot;
    struct msghdr *h = &rx->msgs[i].msg_hdr;
    memset(h, 0, sizeof *h);
    h->msg_iov = &rx->iov[i];
    h->msg_iovlen = 1;
    h->msg_control = rx->ctl[i].buf;
    h->msg_controllen = sizeof rx->ctl[i].buf;
  }
  int n = recvmmsg(rx->fd, rx->msgs, rx->batch, MSG_DONTWAIT, NULL);
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
  /* REALTIME - MONOTONIC now: a kernel stamp minus this is its CLOCK_MONOTONIC time. */
  int64_t mono = clock_ns(CLOCK_MONOTONIC);
  int64_t offset = clock_ns(CLOCK_REALTIME) - mono;
  for (int i = 0; i < n; i++) {
    struct msghdr *h = &rx->msgs[i].msg_hdr;
    int64_t at = mono; /* no stamp: the read itself (never later than the truth) */
    for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c != NULL; c = CMSG_NXTHDR(h, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
        struct timespec ts;
        memcpy(&ts, CMSG_DATA(c), sizeof ts);
        at = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec - offset;
      }
    }
    if (h->msg_flags & MSG_TRUNC) rx->truncated++;
    rx->len[i] = (int32_t)(rx->msgs[i].msg_len < rx->slot ? rx->msgs[i].msg_len : rx->slot);
    rx->stamp[i] = (double)at;
  }
  return n;
}

static void call_js(Rx *rx, int count, int err) {
  napi_env env = rx->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv, argv[2], result;
  if (napi_get_reference_value(env, rx->callback, &cb) == napi_ok && cb != NULL) {
    napi_get_global(env, &recv); /* make_callback needs an object */
    napi_create_int32(env, count, &argv[0]);
    napi_create_int32(env, err, &argv[1]);
    /* make_callback, not call_function: nextTicks and promises queued by the handler run after
     * it, as they would after any libuv callback. */
    if (napi_make_callback(env, rx->async, recv, cb, 2, argv, &result) == napi_pending_exception) {
      napi_value e;
      napi_get_and_clear_last_exception(env, &e);
      napi_fatal_exception(env, e);
    }
  }
  napi_close_handle_scope(env, scope);
}

static void on_readable(uv_poll_t *p, int status, int events) {
  (void)events;
  Rx *rx = p->data;
  if (status < 0) {
    call_js(rx, -1, status);
    return;
  }
  for (int round = 0; round < MAX_ROUNDS && rx->fd >= 0 && rx->callback != NULL; round++) {
    int n = read_batch(rx);
    if (n < 0) {
      call_js(rx, -1, -errno);
      return;
    }
    if (n == 0) return;
    call_js(rx, n, 0);
    if ((unsigned)n < rx->batch) return;
  }
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t family = 0, port = 0, rcvbuf = 0;
  char addr[64];
  size_t alen = 0;
  if (argc < 4 || napi_get_value_int32(env, argv[0], &family) != napi_ok || napi_get_value_string_utf8(env, argv[1], addr, sizeof addr, &alen) != napi_ok ||
      napi_get_value_int32(env, argv[2], &port) != napi_ok || napi_get_value_int32(env, argv[3], &rcvbuf) != napi_ok || (family != 4 && family != 6) || port < 0 || port > 65535) {
    napi_throw_type_error(env, NULL, "udprx.open(family 4|6, address, port, rcvbuf)");
    return NULL;
  }
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  socklen_t sl;
  if (family == 4) {
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, addr, &a->sin_addr) != 1) return throw_errno(env, "inet_pton", EINVAL, addr);
    sl = sizeof *a;
  } else {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, addr, &a->sin6_addr) != 1) return throw_errno(env, "inet_pton", EINVAL, addr);
    sl = sizeof *a;
  }
  int fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno, addr);
  int on = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) < 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "setsockopt", e, "SO_TIMESTAMPNS");
  }
  if (family == 6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
  /* Past net.core.rmem_max only with CAP_NET_ADMIN (SO_RCVBUFFORCE); else capped, and the
   * caller reads back what it got. */
  if (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  char what[96];
  snprintf(what, sizeof what, family == 4 ? "%s:%d" : "[%s]:%d", addr, port);
  if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "bind", e, what);
  }
  Rx *rx = calloc(1, sizeof *rx);
  if (rx == NULL) {
    close(fd);
    return throw_errno(env, "calloc", ENOMEM, what);
  }
  rx->fd = fd;
  rx->env = env;
  napi_value handle;
  if (napi_create_external(env, rx, finalize, NULL, &handle) != napi_ok) {
    close(fd);
    free(rx);
    napi_throw_error(env, NULL, "udprx: napi_create_external failed");
    return NULL;
  }
  return handle;
}

static napi_value js_start(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 6) {
    napi_throw_type_error(env, NULL, "udprx.start(handle, buffer, slot, lengths, stamps, callback)");
    return NULL;
  }
  Rx *rx = unwrap(env, argv[0]);
  if (rx == NULL) return NULL;
  if (rx->fd < 0 || rx->callback != NULL) {
    napi_throw_error(env, NULL, "udprx.start: closed or already started");
    return NULL;
  }
  void *data;
  size_t bytes, nlen, nstamp;
  uint32_t slot;
  napi_typedarray_type t1, t2;
  void *lp, *sp;
  napi_value ab;
  size_t off;
  if (napi_get_buffer_info(env, argv[1], &data, &bytes) != napi_ok || napi_get_value_uint32(env, argv[2], &slot) != napi_ok || slot == 0 ||
      napi_get_typedarray_info(env, argv[3], &t1, &nlen, &lp, &ab, &off) != napi_ok || t1 != napi_int32_array ||
      napi_get_typedarray_info(env, argv[4], &t2, &nstamp, &sp, &ab, &off) != napi_ok || t2 != napi_float64_array) {
    napi_throw_type_error(env, NULL, "udprx.start: buffer, slot > 0, Int32Array, Float64Array");
    return NULL;
  }
  size_t batch = bytes / slot;
  if (nlen < batch) batch = nlen;
  if (nstamp < batch) batch = nstamp;
  if (batch > MAX_BATCH) batch = MAX_BATCH;
  if (batch == 0) {
    napi_throw_range_error(env, NULL, "udprx.start: room for no datagram");
    return NULL;
  }
  rx->data = data;
  rx->slot = slot;
  rx->len = lp;
  rx->stamp = sp;
  rx->batch = (unsigned)batch;
  napi_value name;
  napi_create_string_utf8(env, "lsprobe.udprx", NAPI_AUTO_LENGTH, &name);
  if (napi_create_reference(env, argv[1], 1, &rx->buffer) != napi_ok || napi_create_reference(env, argv[3], 1, &rx->lengths) != napi_ok ||
      napi_create_reference(env, argv[4], 1, &rx->stamps) != napi_ok || napi_create_reference(env, argv[5], 1, &rx->callback) != napi_ok ||
      napi_async_init(env, argv[0], name, &rx->async) != napi_ok) {
    release(rx);
    napi_throw_error(env, NULL, "udprx.start: cannot keep the buffers");
    return NULL;
  }
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || uv_poll_init_socket(loop, &rx->poll, rx->fd) != 0) {
    release(rx);
    napi_throw_error(env, NULL, "udprx.start: cannot watch the socket");
    return NULL;
  }
  rx->poll.data = rx;
  rx->polling = 1;
  uv_poll_start(&rx->poll, UV_READABLE, on_readable);
  napi_value r;
  napi_create_uint32(env, rx->batch, &r);
  return r;
}

static napi_value js_recv_buffer_size(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], r;
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Rx *rx = argc ? unwrap(env, argv[0]) : NULL;
  if (rx == NULL) return NULL;
  int v = 0;
  socklen_t l = sizeof v;
  if (rx->fd < 0 || getsockopt(rx->fd, SOL_SOCKET, SO_RCVBUF, &v, &l) < 0) return throw_errno(env, "getsockopt", rx->fd < 0 ? EBADF : errno, "SO_RCVBUF");
  napi_create_int32(env, v, &r);
  return r;
}

static napi_value js_truncated(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], r;
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Rx *rx = argc ? unwrap(env, argv[0]) : NULL;
  if (rx == NULL) return NULL;
  napi_create_double(env, rx->truncated, &r);
  return r;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Rx *rx = argc ? unwrap(env, argv[0]) : NULL;
  if (rx == NULL) return NULL;
  shut(rx);
  release(rx);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor d[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
      {"start", NULL, js_start, NULL, NULL, NULL, napi_default, NULL},
      {"recvBufferSize", NULL, js_recv_buffer_size, NULL, NULL, NULL, napi_default, NULL},
      {"truncated", NULL, js_truncated, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof d / sizeof d[0], d);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
