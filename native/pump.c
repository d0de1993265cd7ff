/*
 * Data pump: moves bytes between pairs of non-blocking fds (a device and a TCP socket) on one
 * background thread, the way socat and ser2net do it in C: a read and a write per chunk, no trip
 * through the JavaScript event loop, no garbage-collected buffer per read.
 *
 * JavaScript keeps every decision. It starts a pump only for a plain raw session (one client,
 * nobody watching), and stops it, synchronously and losing nothing, whenever it needs the bytes
 * again. A pump never handles an end condition itself: on EOF, an error or a hangup it stops moving
 * bytes, leaves both fds as they are and reports; JavaScript takes the bytes still in flight and
 * resumes its own reads, which then meet the same EOF or error and run the usual handling.
 *
 * Threading: one mutex guards every slot. The worker holds it while it services one epoll batch;
 * the main thread holds it in start/stop/totals. Epoll events carry the slot's generation, so an
 * event for a pump that was stopped (and perhaps reused) while the worker waited is ignored.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <node_api.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "addon.h"
#include "exports.h"

#define MAX_PUMPS 1024
#define BUF_SIZE (64 * 1024)
#define MAX_EVENTS 64

enum state { FREE = 0, RUNNING, ENDED };
/* Why a pump ended. JavaScript only needs to know that the session is ending: its own reads will
 * meet the same condition and run the usual handling. */
static const char *const reason_names[] = {"", "eof", "error", "hangup"};
enum reason { R_NONE = 0, R_EOF, R_ERROR, R_HANGUP };

typedef struct {
  char *data;
  size_t start, end;
  double total; /* bytes moved in this direction; a double so JavaScript gets it as a number */
} flow_t;

typedef struct {
  enum state state;
  uint32_t gen;
  int fd[2];
  uint32_t mask[2]; /* epoll interest currently registered for fd[i] */
  flow_t flow[2];   /* flow[i]: bytes read from fd[i], to be written to fd[1 - i] */
  enum reason reason;
  int side; /* which fd the end condition came from */
  int err;
} pump_t;

static pump_t pumps[MAX_PUMPS];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int epfd = -1;
static napi_threadsafe_function on_end;
static int active; /* pumps not yet collected by stop(); main thread only */

static double handle_of(uint32_t slot, uint32_t gen) { return (double)gen * MAX_PUMPS + slot; }

static uint32_t wanted_mask(pump_t *p, int i) {
  flow_t *in = &p->flow[i], *out = &p->flow[1 - i];
  return (in->end < BUF_SIZE ? EPOLLIN : 0) | (out->end > out->start ? EPOLLOUT : 0);
}

static void update_masks(pump_t *p, uint32_t slot) {
  for (int i = 0; i < 2; i++) {
    uint32_t m = wanted_mask(p, i);
    if (m == p->mask[i]) continue;
    struct epoll_event ev = {.events = m, .data.u64 = event_key(slot, p->gen, i)};
    epoll_ctl(epfd, EPOLL_CTL_MOD, p->fd[i], &ev);
    p->mask[i] = m;
  }
}

static void finish(pump_t *p, uint32_t slot, enum reason why, int side, int err) {
  p->state = ENDED;
  p->reason = why;
  p->side = side;
  p->err = err;
  epoll_ctl(epfd, EPOLL_CTL_DEL, p->fd[0], NULL);
  epoll_ctl(epfd, EPOLL_CTL_DEL, p->fd[1], NULL);
  napi_call_threadsafe_function(on_end, (void *)(uintptr_t)handle_of(slot, p->gen), napi_tsfn_nonblocking);
}

/* Writes what flow i holds to fd[1 - i]. Returns 0, or -1 after ending the pump. */
static int drain(pump_t *p, uint32_t slot, int i) {
  flow_t *f = &p->flow[i];
  while (f->end > f->start) {
    ssize_t n = write(p->fd[1 - i], f->data + f->start, f->end - f->start);
    if (n > 0) {
      f->start += (size_t)n;
      f->total += (double)n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return 0;
    finish(p, slot, R_ERROR, 1 - i, n < 0 ? errno : EIO);
    return -1;
  }
  f->start = f->end = 0;
  return 0;
}

/* Reads fd[i] until it has nothing more or flow i is full, then passes the bytes on: several
 * short tty reads (a pty hands over at most 4095 bytes per read) leave as one TCP send. */
static int fill(pump_t *p, uint32_t slot, int i, int hangup) {
  flow_t *f = &p->flow[i];
  if (!f->data && !(f->data = malloc(BUF_SIZE))) return finish(p, slot, R_ERROR, i, ENOMEM), -1;
  for (;;) {
    if (f->end == BUF_SIZE) break;
    ssize_t n = read(p->fd[i], f->data + f->end, BUF_SIZE - f->end);
    if (n > 0) {
      f->end += (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      /* A hangup with nothing left to read would report itself forever: hand it to JavaScript. */
      if (hangup) return finish(p, slot, R_HANGUP, i, 0), -1;
      break;
    }
    int err = n == 0 ? 0 : errno;
    if (drain(p, slot, i) < 0) return -1;
    return finish(p, slot, n == 0 ? R_EOF : R_ERROR, i, err), -1;
  }
  return drain(p, slot, i);
}

static void service(uint32_t slot, int i, uint32_t events) {
  pump_t *p = &pumps[slot];
  int hangup = (events & (EPOLLHUP | EPOLLERR)) != 0;
  if (events & EPOLLOUT && drain(p, slot, 1 - i) < 0) return;
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
    if (p->flow[i].end == BUF_SIZE) {
      /* No room to read the hangup's remaining bytes: the other side is stuck; let JavaScript see it. */
      if (hangup) return finish(p, slot, R_HANGUP, i, 0);
    } else if (fill(p, slot, i, hangup) < 0) {
      return;
    }
  }
  update_masks(p, slot);
}

static void *worker(void *unused) {
  (void)unused;
  struct epoll_event events[MAX_EVENTS];
  /* Named, so `top -H` and /proc/PID/task/TID/comm show where the bytes' CPU time goes. */
  pthread_setname_np(pthread_self(), "laplink-pump");
  for (;;) {
    int n = epoll_wait(epfd, events, MAX_EVENTS, -1);
    if (n < 0) continue; /* EINTR */
    pthread_mutex_lock(&mu);
    for (int k = 0; k < n; k++) {
      uint64_t key = events[k].data.u64;
      uint32_t slot = key_slot(key);
      pump_t *p = &pumps[slot];
      if (p->state == RUNNING && p->gen == key_gen(key)) service(slot, key_side(key), events[k].events);
    }
    pthread_mutex_unlock(&mu);
  }
  return NULL;
}

/* ---- JavaScript side (main thread) ------------------------------------------------------------ */

static void call_js(napi_env env, napi_value fn, void *context, void *data) {
  (void)context;
  if (!env) return;
  napi_value undefined, arg;
  napi_get_undefined(env, &undefined);
  napi_create_double(env, (double)(uintptr_t)data, &arg);
  napi_call_function(env, undefined, fn, 1, &arg, NULL);
}

static napi_value throw_error(napi_env env, const char *msg) {
  napi_throw_error(env, NULL, msg);
  return NULL;
}

/* init(onEnd): onEnd(handle) is called once when a pump ends by itself. */
static napi_value js_init(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value fn, name;
  napi_get_cb_info(env, info, &argc, &fn, NULL, NULL);
  if (epfd >= 0) return throw_error(env, "pump: already initialised");
  napi_create_string_utf8(env, "laplink-pump", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, fn, NULL, name, 0, 1, NULL, NULL, NULL, call_js, &on_end) != napi_ok)
    return NULL;
  napi_unref_threadsafe_function(env, on_end);
  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) return throw_error(env, "pump: epoll_create1 failed");
  if (start_worker(worker, 64 * 1024) != 0) return throw_error(env, "pump: cannot start its thread");
  return NULL;
}

/*
 * The body of stop/totals: reads the handle argument (throws without one), and with mu held runs
 * `body` on the pump it names. Undefined for a handle whose pump no longer exists.
 */
static napi_value with_live_pump(napi_env env, napi_callback_info info, const char *usage, napi_value (*body)(napi_env, pump_t *)) {
  size_t argc = 1;
  napi_value arg, out = NULL;
  double h;
  napi_get_cb_info(env, info, &argc, &arg, NULL, NULL);
  if (argc < 1 || napi_get_value_double(env, arg, &h) != napi_ok || h < 0) return throw_error(env, usage);
  uint32_t slot = (uint32_t)((uint64_t)h % MAX_PUMPS), gen = (uint32_t)((uint64_t)h / MAX_PUMPS);
  pthread_mutex_lock(&mu);
  pump_t *p = &pumps[slot];
  if (p->state != FREE && p->gen == gen) out = body(env, p);
  pthread_mutex_unlock(&mu);
  return out;
}

static napi_value array_of(napi_env env, napi_value *v, uint32_t n) {
  napi_value out;
  napi_create_array_with_length(env, n, &out);
  for (uint32_t k = 0; k < n; k++) napi_set_element(env, out, k, v[k]);
  return out;
}

/* start(fdA, fdB) → handle, or -1 when every slot is taken (the caller keeps moving bytes itself). */
static napi_value js_start(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  int32_t fd[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (epfd < 0) return throw_error(env, "pump: init() first");
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd[0]) != napi_ok || napi_get_value_int32(env, argv[1], &fd[1]) != napi_ok)
    return throw_error(env, "pump: start(fdA, fdB) takes two fds");
  /* A blocking fd would stall the worker, and every other pump with it, inside read(). */
  for (int i = 0; i < 2; i++) {
    int fl = fcntl(fd[i], F_GETFL);
    if (fl < 0 || !(fl & O_NONBLOCK)) return throw_error(env, "pump: fd is not non-blocking");
  }
  double handle = -1;
  pthread_mutex_lock(&mu);
  for (uint32_t slot = 0; slot < MAX_PUMPS; slot++) {
    pump_t *p = &pumps[slot];
    if (p->state != FREE) continue;
    uint32_t gen = p->gen;
    memset(p, 0, sizeof *p);
    p->gen = gen;
    p->fd[0] = fd[0];
    p->fd[1] = fd[1];
    p->state = RUNNING;
    int ok = 1;
    for (int i = 0; i < 2 && ok; i++) {
      p->mask[i] = wanted_mask(p, i);
      struct epoll_event ev = {.events = p->mask[i], .data.u64 = event_key(slot, gen, i)};
      ok = epoll_ctl(epfd, EPOLL_CTL_ADD, fd[i], &ev) == 0;
    }
    if (!ok) {
      int err = errno;
      epoll_ctl(epfd, EPOLL_CTL_DEL, fd[0], NULL);
      p->state = FREE;
      pthread_mutex_unlock(&mu);
      napi_throw_error(env, NULL, err == EPERM ? "pump: fd cannot be polled" : "pump: epoll_ctl failed");
      return NULL;
    }
    handle = handle_of(slot, gen);
    if (active++ == 0) napi_ref_threadsafe_function(env, on_end);
    break;
  }
  pthread_mutex_unlock(&mu);
  napi_create_double(env, handle, &result);
  return result;
}

static napi_value pending_copy(napi_env env, flow_t *f) {
  napi_value buf;
  napi_create_buffer_copy(env, f->end - f->start, f->data ? f->data + f->start : "", NULL, &buf);
  return buf;
}

/*
 * stop(handle) → [pendingAtoB, pendingBtoA, totalAtoB, totalBtoA, reason, side, errno], or undefined
 * for an unknown or already stopped handle. Totals count bytes written to the far fd only: the
 * pending bytes are the caller's to write.
 */
static napi_value stop_pump(napi_env env, pump_t *p) {
  if (p->state == RUNNING) {
    epoll_ctl(epfd, EPOLL_CTL_DEL, p->fd[0], NULL);
    epoll_ctl(epfd, EPOLL_CTL_DEL, p->fd[1], NULL);
  }
  napi_value v[7];
  v[0] = pending_copy(env, &p->flow[0]);
  v[1] = pending_copy(env, &p->flow[1]);
  napi_create_double(env, p->flow[0].total, &v[2]);
  napi_create_double(env, p->flow[1].total, &v[3]);
  napi_create_string_utf8(env, reason_names[p->reason], NAPI_AUTO_LENGTH, &v[4]);
  napi_create_int32(env, p->side, &v[5]);
  napi_create_int32(env, p->err, &v[6]);
  free(p->flow[0].data);
  free(p->flow[1].data);
  p->flow[0].data = p->flow[1].data = NULL;
  p->state = FREE;
  p->gen++; /* stale epoll events and late onEnd calls for this handle now match nothing */
  if (--active == 0) napi_unref_threadsafe_function(env, on_end);
  return array_of(env, v, 7);
}

static napi_value js_stop(napi_env env, napi_callback_info info) {
  return with_live_pump(env, info, "pump: stop(handle)", stop_pump);
}

/* totals(handle) → [totalAtoB, totalBtoA] while the pump exists, for live statistics. */
static napi_value totals_of(napi_env env, pump_t *p) {
  napi_value v[2];
  napi_create_double(env, p->flow[0].total, &v[0]);
  napi_create_double(env, p->flow[1].total, &v[1]);
  return array_of(env, v, 2);
}

static napi_value js_totals(napi_env env, napi_callback_info info) {
  return with_live_pump(env, info, "pump: totals(handle)", totals_of);
}

/*
 * trimMemory(): hands freed malloc memory back to the kernel. Not pumping, but the one other thing
 * the bridge needs from C: a thread that exits (the config loader's worker) leaves its freed
 * isolate resident in that thread's malloc arena, megabytes a long-lived daemon would carry for good.
 */
static napi_value js_trim(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  napi_get_boolean(env, malloc_trim(0) == 1, &out);
  return out;
}

/* The pump's functions, added to the addon's exports by native/addon.c. */
void pump_define(napi_env env, napi_value exports) {
  static const addon_function fns[] = {
      {"init", js_init},
      {"start", js_start},
      {"stop", js_stop},
      {"totals", js_totals},
      {"trimMemory", js_trim},
  };
  define_functions(env, exports, fns, sizeof fns / sizeof fns[0]);
}
