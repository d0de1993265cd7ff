/*
 * Native TLS termination: the server side of a TLS session run in C, so that the session's bytes
 * never cross the JavaScript event loop (Node's TLS costs two to three times socat's CPU per MiB).
 *
 * JavaScript keeps every decision, as with the pump (native/pump.c): it hands over an accepted TCP
 * fd; a background thread runs the handshake, nonblocking, and reports what the peer showed (its
 * DER certificate chain, OpenSSL's verify result, protocol and cipher) or why it failed; JavaScript
 * checks the peer and then either closes the session (nothing relayed) or asks for a relay: the
 * thread then moves the plaintext between the SSL session and one end of a socketpair whose other
 * end JavaScript wraps as an ordinary socket. Timeouts are JavaScript's too (close() at any time).
 *
 * OpenSSL is not linked: the symbols come from the node binary itself, which exports its OpenSSL,
 * so the addon and Node share one library (two OpenSSLs in one process would each keep their own
 * global state). Node's main thread uses OpenSSL's per-thread error queue as well: every call made
 * on the main thread clears that queue before and after, so Node never sees an error of ours.
 *
 * Threading: one mutex guards every session. The thread holds it while it services an epoll batch;
 * the main thread holds it in accept/relay/close. Epoll events carry the session's generation, so
 * an event for a session closed meanwhile (and perhaps reused) is ignored.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addon.h"
#include "exports.h"

#define MAX_SESSIONS 1024
#define MAX_CONTEXTS 64
#define BUF_SIZE (64 * 1024)
#define MAX_RECORD 16384 /* one TLS record's plaintext: an SSL_write of more gains nothing */
#define MAX_CHAIN 10
#define MAX_EVENTS 64

enum state { S_FREE = 0, S_HANDSHAKE, S_DECIDING, S_RELAY };
enum side { TCP = 0, PLAIN = 1 };
enum event_kind { EV_READY = 0, EV_FAILED, EV_ENDED, EV_DETACH };
static const char *const event_names[] = {"ready", "failed", "ended", "detach"};

typedef struct {
  char *data;
  size_t start, end, cap; /* cap is BUF_SIZE but while bytes taken over by tlsDirect drain */
  double total;
} flow_t;

typedef struct {
  enum state state;
  uint32_t gen;
  SSL *ssl;
  int fd[2];          /* TCP (the TLS side) and our end of the socketpair (the plaintext side) */
  uint32_t mask[2];   /* epoll interest registered for fd[i]; 0 = not registered */
  uint32_t want[2];   /* interest the last pass asked for */
  flow_t to_plain;    /* decrypted, for the socketpair */
  flow_t to_tls;      /* from the socketpair, to encrypt */
  size_t write_retry; /* length of an SSL_write that must be repeated (OpenSSL's rule), or 0 */
  int plain_full;     /* the plain side took less than offered: not written again before it polls writable */
  int tls_eof, truncated, plain_eof, plain_shut, tls_shut;
  /* Directed (tlsDirect): for now fd[PLAIN] is a copy of a device fd and our socketpair end waits
   * in pair_fd; JavaScript takes the session back with tlsUndirect. An end met on either side
   * while directed is not acted on here: JavaScript is told once (detach_asked) and undirects. */
  int directed, detach_asked, pair_fd;
  double dev_in, dev_out; /* directed: bytes read from and written to the device */
} session_t;

/* What a thread tells JavaScript; built on the worker, turned into values (and freed) on the main thread. */
typedef struct {
  double handle;
  enum event_kind kind;
  char reason[256];
  char code[96]; /* OpenSSL's reason as Node spells error codes (ERR_SSL_...), or an errno name */
  int chain_len;
  unsigned char *chain[MAX_CHAIN];
  int chain_size[MAX_CHAIN];
  long verify_code;
  char protocol[32], cipher[96];
  double to_plain, to_tls;
  int directed; /* sent while directed (see directed_sessions) */
} event_t;

static session_t sessions[MAX_SESSIONS];
static SSL_CTX *contexts[MAX_CONTEXTS];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int epfd = -1;
static napi_threadsafe_function on_event;
/* Directed sessions; main thread only. JavaScript's own handles for one (its socketpair end, whose
 * reads are held) may all be idle, so the callback is ref'd while any is directed: its news must
 * be heard, and a `bridge connect` must not exit under it. */
static int directed_sessions;

static void directed_gone(napi_env env) {
  if (--directed_sessions == 0) napi_unref_threadsafe_function(env, on_event);
}

static double handle_of(uint32_t slot, uint32_t gen) { return (double)gen * MAX_SESSIONS + slot; }

static void set_interest(session_t *s, uint32_t slot, int i, uint32_t m) {
  if (m == s->mask[i]) return;
  struct epoll_event ev = {.events = m, .data.u64 = event_key(slot, s->gen, i)};
  /* Unregistered rather than an empty mask: a hangup is reported whatever the mask, and would spin. */
  if (!m) epoll_ctl(epfd, EPOLL_CTL_DEL, s->fd[i], NULL);
  else epoll_ctl(epfd, s->mask[i] ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s->fd[i], &ev);
  s->mask[i] = m;
}

/* Frees everything the session holds; its handle then names nothing. Caller holds mu. */
static void release(session_t *s, uint32_t slot) {
  for (int i = 0; i < 2; i++) {
    set_interest(s, slot, i, 0);
    if (s->fd[i] >= 0) close(s->fd[i]);
    s->fd[i] = -1;
  }
  if (s->pair_fd >= 0) close(s->pair_fd);
  SSL_free(s->ssl);
  free(s->to_plain.data);
  free(s->to_tls.data);
  uint32_t gen = s->gen;
  memset(s, 0, sizeof *s);
  s->fd[0] = s->fd[1] = s->pair_fd = -1;
  s->gen = gen + 1;
}

static event_t *new_event(session_t *s, uint32_t slot, enum event_kind kind) {
  event_t *e = calloc(1, sizeof *e);
  if (e) {
    e->handle = handle_of(slot, s->gen);
    e->kind = kind;
    e->directed = s->directed;
  }
  return e;
}

static void send_event(event_t *e) {
  if (e && napi_call_threadsafe_function(on_event, e, napi_tsfn_nonblocking) != napi_ok) free(e);
}

/* OpenSSL's reason for the last error on this thread, or the system's; `code` in Node's spelling. */
static void describe_error(event_t *e, int ssl_error, int err) {
  unsigned long last = ERR_peek_last_error();
  if (last) {
    const char *why = ERR_reason_error_string(last);
    snprintf(e->reason, sizeof e->reason, "%s", why ? why : "unknown OpenSSL error");
    int n = snprintf(e->code, sizeof e->code, "ERR_SSL_");
    for (const char *c = e->reason; *c && n < (int)sizeof e->code - 1; c++, n++) e->code[n] = *c == ' ' ? '_' : (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
    e->code[n] = 0;
  } else if (ssl_error == SSL_ERROR_SYSCALL && err) {
    snprintf(e->reason, sizeof e->reason, "%s", strerror(err));
    snprintf(e->code, sizeof e->code, "%s", err == ECONNRESET ? "ECONNRESET" : err == EPIPE ? "EPIPE" : "");
  } else {
    snprintf(e->reason, sizeof e->reason, "%s", "connection closed by the peer");
  }
  ERR_clear_error();
}

static void fail(session_t *s, uint32_t slot, enum event_kind kind, int ssl_error, int err) {
  event_t *e = new_event(s, slot, kind);
  if (e) {
    describe_error(e, ssl_error, err);
    e->to_plain = s->to_plain.total;
    e->to_tls = s->to_tls.total;
  }
  release(s, slot);
  send_event(e);
}

/* ---- handshake -------------------------------------------------------------------------------- */

static void report_ready(session_t *s, uint32_t slot) {
  event_t *e = new_event(s, slot, EV_READY);
  if (!e) return fail(s, slot, EV_FAILED, SSL_ERROR_SYSCALL, ENOMEM);
  /* On a server the peer's chain leaves out its own certificate, on a client it starts with it:
   * either way the leaf goes first, once. */
  X509 *leaf = SSL_get0_peer_certificate(s->ssl);
  STACK_OF(X509) *rest = SSL_get_peer_cert_chain(s->ssl);
  int count = rest ? sk_X509_num(rest) : 0;
  for (int k = -1; k < count && e->chain_len < MAX_CHAIN; k++) {
    X509 *x = k < 0 ? leaf : sk_X509_value(rest, k);
    if (!x || (k >= 0 && x == leaf)) continue;
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    if (n <= 0) continue;
    e->chain[e->chain_len] = der;
    e->chain_size[e->chain_len++] = n;
  }
  e->verify_code = SSL_get_verify_result(s->ssl);
  snprintf(e->protocol, sizeof e->protocol, "%s", SSL_get_version(s->ssl));
  snprintf(e->cipher, sizeof e->cipher, "%s", SSL_CIPHER_get_name(SSL_get_current_cipher(s->ssl)));
  /* Nothing moves until JavaScript has decided: the fd is watched by nobody meanwhile. */
  set_interest(s, slot, TCP, 0);
  s->state = S_DECIDING;
  send_event(e);
}

static void handshake(session_t *s, uint32_t slot) {
  ERR_clear_error();
  errno = 0;
  int rc = SSL_do_handshake(s->ssl);
  if (rc == 1) return report_ready(s, slot);
  int why = SSL_get_error(s->ssl, rc);
  if (why == SSL_ERROR_WANT_READ) return set_interest(s, slot, TCP, EPOLLIN);
  if (why == SSL_ERROR_WANT_WRITE) return set_interest(s, slot, TCP, EPOLLOUT);
  fail(s, slot, EV_FAILED, why, errno);
}

/* ---- relay ------------------------------------------------------------------------------------ */

/* An empty buffer starts again at its front, and one grown by tlsDirect shrinks back. */
static void drained(flow_t *f) {
  f->start = f->end = 0;
  if (f->cap > BUF_SIZE) {
    char *small = malloc(BUF_SIZE);
    if (!small) return;
    free(f->data);
    f->data = small;
    f->cap = BUF_SIZE;
  }
}

/* Asks for fd `side` to be watched for `events` after this pass. */
static void want(session_t *s, int side, uint32_t events) { s->want[side] |= events; }

/* Directed: an end met on the device or the client; the device is touched no more until undirected. */
static void ask_detach(session_t *s, uint32_t slot, const char *why, int err) {
  if (s->detach_asked) return;
  s->detach_asked = 1;
  event_t *e = new_event(s, slot, EV_DETACH);
  if (e) {
    if (err) snprintf(e->reason, sizeof e->reason, "%s (%s)", why, strerror(err));
    else snprintf(e->reason, sizeof e->reason, "%s", why);
  }
  send_event(e);
}

static int ssl_wants(session_t *s, int why) {
  if (why == SSL_ERROR_WANT_READ) return want(s, TCP, EPOLLIN), 1;
  if (why == SSL_ERROR_WANT_WRITE) return want(s, TCP, EPOLLOUT), 1;
  return 0;
}

/*
 * One pass of the relay, repeated while anything moves: decrypt into to_plain while it has room,
 * write it to the socketpair; read the socketpair into to_tls while it has room, encrypt it. A full
 * buffer stops reading its source (backpressure: at most BUF_SIZE per direction is held). An end in
 * one direction is passed on (close_notify → shutdown(SHUT_WR); EOF → close_notify) while the other
 * direction goes on; the session ends when both have. Returns -1 once the session is released.
 */
static int relay(session_t *s, uint32_t slot) {
  flow_t *in = &s->to_plain, *out = &s->to_tls;
  for (;;) {
    int moved = 0;
    s->want[TCP] = s->want[PLAIN] = 0;
    int plain_io = !s->directed || !s->detach_asked;
    /* Every record at hand is decrypted before the first write: fewer, larger writes to the
     * plain side (a pty takes a large write as cheaply as a small one). */
    while (!s->tls_eof && in->end < in->cap) {
      ERR_clear_error();
      errno = 0;
      int n = SSL_read(s->ssl, in->data + in->end, (int)(in->cap - in->end));
      if (n > 0) {
        in->end += (size_t)n;
        moved = 1;
        continue;
      }
      int why = SSL_get_error(s->ssl, n);
      unsigned long last = ERR_peek_last_error();
      if (why == SSL_ERROR_ZERO_RETURN) {
        s->tls_eof = moved = 1;
      } else if ((why == SSL_ERROR_SSL && ERR_GET_REASON(last) == SSL_R_UNEXPECTED_EOF_WHILE_READING) || (why == SSL_ERROR_SYSCALL && !last && errno == 0)) {
        /* The peer closed its TCP side without close_notify: an end all the same, but a truncated one. */
        ERR_clear_error();
        s->tls_eof = s->truncated = moved = 1;
      } else if (!ssl_wants(s, why)) {
        return fail(s, slot, EV_ENDED, why, errno), -1;
      }
      break;
    }
    while (plain_io && !s->plain_full && in->end > in->start) {
      size_t len = in->end - in->start;
      ssize_t n = write(s->fd[PLAIN], in->data + in->start, len);
      if (n > 0) {
        in->start += (size_t)n;
        in->total += (double)n;
        if (s->directed) s->dev_out += (double)n;
        moved = 1;
        /* A short write means the side is full: retrying at once only spins while a few bytes of
         * room trickle in; its writability wakes us with room for a larger write. */
        if ((size_t)n < len) {
          s->plain_full = 1;
          break;
        }
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && errno == EAGAIN) {
        s->plain_full = 1;
        break;
      } else if (s->directed) {
        ask_detach(s, slot, "error on the device", n < 0 ? errno : EIO);
        plain_io = 0;
      } else {
        return fail(s, slot, EV_ENDED, SSL_ERROR_SYSCALL, n < 0 ? errno : EIO), -1;
      }
    }
    if (plain_io && s->plain_full && in->end > in->start) want(s, PLAIN, EPOLLOUT);
    if (in->start == in->end) drained(in);
    if (s->directed && s->tls_eof && !in->end) {
      /* The client's end is passed on by JavaScript's session, once it has the session back. */
      ask_detach(s, slot, "eof on the client", 0);
      plain_io = 0;
    } else if (s->tls_eof && !in->end && !s->plain_shut) {
      shutdown(s->fd[PLAIN], SHUT_WR);
      s->plain_shut = 1;
    }
    if (plain_io && !s->plain_eof && out->end < out->cap) {
      ssize_t n = read(s->fd[PLAIN], out->data + out->end, out->cap - out->end);
      if (n > 0) {
        out->end += (size_t)n;
        if (s->directed) s->dev_in += (double)n;
        moved = 1;
      } else if (n == 0 && s->directed) {
        ask_detach(s, slot, "eof on the device", 0);
      } else if (n == 0) {
        s->plain_eof = moved = 1;
      } else if (errno == EAGAIN) {
        want(s, PLAIN, EPOLLIN);
      } else if (errno == EINTR) {
        moved = 1;
      } else if (s->directed) {
        ask_detach(s, slot, "error on the device", errno);
      } else {
        return fail(s, slot, EV_ENDED, SSL_ERROR_SYSCALL, errno), -1;
      }
    }
    if (out->end > out->start) {
      size_t len = s->write_retry ? s->write_retry : out->end - out->start;
      if (len > MAX_RECORD) len = MAX_RECORD;
      ERR_clear_error();
      errno = 0;
      int n = SSL_write(s->ssl, out->data + out->start, (int)len);
      if (n > 0) {
        out->start += (size_t)n;
        out->total += (double)n;
        s->write_retry = 0;
        moved = 1;
        if (out->start == out->end) drained(out);
      } else {
        int why = SSL_get_error(s->ssl, n);
        if (!ssl_wants(s, why)) return fail(s, slot, EV_ENDED, why, errno), -1;
        s->write_retry = len;
      }
    }
    if (s->plain_eof && !out->end && !s->tls_shut) {
      ERR_clear_error();
      int rc = SSL_shutdown(s->ssl);
      if (rc >= 0) {
        s->tls_shut = moved = 1;
      } else {
        int why = SSL_get_error(s->ssl, rc);
        if (!ssl_wants(s, why)) return fail(s, slot, EV_ENDED, why, errno), -1;
      }
    }
    if (s->tls_eof && s->plain_shut && s->plain_eof && s->tls_shut) {
      event_t *e = new_event(s, slot, EV_ENDED);
      if (e) {
        snprintf(e->reason, sizeof e->reason, "%s", s->truncated ? "peer closed without close_notify" : "closed");
        e->to_plain = in->total;
        e->to_tls = out->total;
      }
      release(s, slot);
      send_event(e);
      return -1;
    }
    if (!moved) break;
  }
  set_interest(s, slot, TCP, s->want[TCP]);
  set_interest(s, slot, PLAIN, s->want[PLAIN]);
  return 0;
}

static void *worker(void *unused) {
  (void)unused;
  struct epoll_event events[MAX_EVENTS];
  pthread_setname_np(pthread_self(), "laplink-tls");
  for (;;) {
    int n = epoll_wait(epfd, events, MAX_EVENTS, -1);
    if (n < 0) continue; /* EINTR */
    pthread_mutex_lock(&mu);
    for (int k = 0; k < n; k++) {
      uint64_t key = events[k].data.u64;
      uint32_t slot = key_slot(key);
      session_t *s = &sessions[slot];
      if (s->gen != key_gen(key)) continue;
      if (s->state == S_HANDSHAKE) handshake(s, slot);
      else if (s->state == S_RELAY) {
        if (key_side(key) == PLAIN && (events[k].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) s->plain_full = 0;
        relay(s, slot);
      }
    }
    pthread_mutex_unlock(&mu);
  }
  return NULL;
}

/* ---- JavaScript side (main thread) ------------------------------------------------------------ */

static napi_value str(napi_env env, const char *text) {
  napi_value v;
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &v);
  return v;
}

static napi_value num(napi_env env, double x) {
  napi_value v;
  napi_create_double(env, x, &v);
  return v;
}

static void set(napi_env env, napi_value obj, const char *name, napi_value v) { napi_set_named_property(env, obj, name, v); }

/* X509_V_ERR_* as Node names them (TLSSocket.authorizationError), which peer-check.ts reads: the
 * codes Node names, and its word for any other. */
#define VERIFY_CODE(name) \
  case X509_V_ERR_##name: return #name;
static const char *verify_name(long code) {
  switch (code) {
  case X509_V_OK: return "";
  VERIFY_CODE(UNABLE_TO_GET_ISSUER_CERT)
  VERIFY_CODE(UNABLE_TO_GET_CRL)
  VERIFY_CODE(UNABLE_TO_DECRYPT_CERT_SIGNATURE)
  VERIFY_CODE(UNABLE_TO_DECRYPT_CRL_SIGNATURE)
  VERIFY_CODE(UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY)
  VERIFY_CODE(CERT_SIGNATURE_FAILURE)
  VERIFY_CODE(CRL_SIGNATURE_FAILURE)
  VERIFY_CODE(CERT_NOT_YET_VALID)
  VERIFY_CODE(CERT_HAS_EXPIRED)
  VERIFY_CODE(CRL_NOT_YET_VALID)
  VERIFY_CODE(CRL_HAS_EXPIRED)
  VERIFY_CODE(ERROR_IN_CERT_NOT_BEFORE_FIELD)
  VERIFY_CODE(ERROR_IN_CERT_NOT_AFTER_FIELD)
  VERIFY_CODE(ERROR_IN_CRL_LAST_UPDATE_FIELD)
  VERIFY_CODE(ERROR_IN_CRL_NEXT_UPDATE_FIELD)
  VERIFY_CODE(OUT_OF_MEM)
  VERIFY_CODE(DEPTH_ZERO_SELF_SIGNED_CERT)
  VERIFY_CODE(SELF_SIGNED_CERT_IN_CHAIN)
  VERIFY_CODE(UNABLE_TO_GET_ISSUER_CERT_LOCALLY)
  VERIFY_CODE(UNABLE_TO_VERIFY_LEAF_SIGNATURE)
  VERIFY_CODE(CERT_CHAIN_TOO_LONG)
  VERIFY_CODE(CERT_REVOKED)
  VERIFY_CODE(INVALID_CA)
  VERIFY_CODE(PATH_LENGTH_EXCEEDED)
  VERIFY_CODE(INVALID_PURPOSE)
  VERIFY_CODE(CERT_UNTRUSTED)
  VERIFY_CODE(CERT_REJECTED)
  VERIFY_CODE(HOSTNAME_MISMATCH)
  default: return "UNSPECIFIED";
  }
}
#undef VERIFY_CODE

/* onEvent(handle, kind, facts): ready {chain, verifyCode, verifyError, verifyText, protocol, cipher};
 * failed/ended {reason, code, toPlain, toTls}. */
static void call_js(napi_env env, napi_value fn, void *context, void *data) {
  (void)context;
  event_t *e = data;
  if (env) {
    napi_value undefined, facts, argv[3];
    napi_get_undefined(env, &undefined);
    napi_create_object(env, &facts);
    if (e->kind == EV_READY) {
      napi_value chain;
      napi_create_array_with_length(env, (size_t)e->chain_len, &chain);
      for (int k = 0; k < e->chain_len; k++) {
        napi_value buf;
        napi_create_buffer_copy(env, (size_t)e->chain_size[k], e->chain[k], NULL, &buf);
        napi_set_element(env, chain, (uint32_t)k, buf);
      }
      set(env, facts, "chain", chain);
      set(env, facts, "verifyCode", num(env, (double)e->verify_code));
      set(env, facts, "verifyError", str(env, verify_name(e->verify_code)));
      set(env, facts, "verifyText", str(env, X509_verify_cert_error_string(e->verify_code)));
      set(env, facts, "protocol", str(env, e->protocol));
      set(env, facts, "cipher", str(env, e->cipher));
    } else {
      set(env, facts, "reason", str(env, e->reason));
      set(env, facts, "code", str(env, e->code));
      set(env, facts, "toPlain", num(env, e->to_plain));
      set(env, facts, "toTls", num(env, e->to_tls));
    }
    if (e->directed && (e->kind == EV_ENDED || e->kind == EV_FAILED)) directed_gone(env);
    argv[0] = num(env, e->handle);
    argv[1] = str(env, event_names[e->kind]);
    argv[2] = facts;
    napi_call_function(env, undefined, fn, 3, argv, NULL);
  }
  for (int k = 0; k < e->chain_len; k++) OPENSSL_free(e->chain[k]);
  free(e);
}

static napi_value throw_error(napi_env env, const char *msg) {
  napi_throw_error(env, NULL, msg);
  return NULL;
}

/* tlsInit(onEvent): starts the thread; onEvent(handle, kind, facts) gets each session's news. */
static napi_value js_init(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value fn;
  napi_get_cb_info(env, info, &argc, &fn, NULL, NULL);
  if (epfd >= 0) return throw_error(env, "tls: already initialised");
  for (uint32_t k = 0; k < MAX_SESSIONS; k++) sessions[k].fd[0] = sessions[k].fd[1] = sessions[k].pair_fd = -1;
  if (napi_create_threadsafe_function(env, fn, NULL, str(env, "laplink-tls"), 0, 1, NULL, NULL, NULL, call_js, &on_event) != napi_ok) return NULL;
  /* Unref'd: JavaScript holds a handle of its own (a timer, the socketpair's socket) per session,
   * but for directed ones (directed_sessions). */
  napi_unref_threadsafe_function(env, on_event);
  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) return throw_error(env, "tls: epoll_create1 failed");
  /* OpenSSL's handshake wants more stack than the pump's 64 KiB. */
  if (start_worker(worker, 256 * 1024) != 0) return throw_error(env, "tls: cannot start its thread");
  return NULL;
}

static int string_arg(napi_env env, napi_value v, char *out, size_t size) {
  size_t len;
  napi_valuetype type;
  napi_typeof(env, v, &type);
  if (type != napi_string || napi_get_value_string_utf8(env, v, out, size, &len) != napi_ok || len >= size - 1) return 0;
  return 1;
}

/* Handshakes accept every certificate so that JavaScript can refuse one and say why. */
static int accept_any(int ok, X509_STORE_CTX *ctx) {
  (void)ok;
  (void)ctx;
  return 1;
}

/* An encrypted key must fail, not ask for a passphrase on the terminal (OpenSSL's default). */
static int no_passphrase(char *buf, int size, int rwflag, void *u) {
  (void)buf, (void)size, (void)rwflag, (void)u;
  return -1;
}

/* Throws OpenSSL's reason for what `what` (naming the file) could not do, clearing the queue. */
static napi_value throw_openssl(napi_env env, const char *what, const char *file) {
  char msg[1024];
  unsigned long last = ERR_peek_last_error();
  const char *why = last ? ERR_reason_error_string(last) : NULL;
  snprintf(msg, sizeof msg, "tls: %s %s: %s", what, file, why ? why : "failed");
  ERR_clear_error();
  return throw_error(env, msg);
}

/* A context as both sides want it: TLS 1.2 at least, no passphrase prompt, and whatever the socket
 * holds read at once (not a record header, then its body: half the reads), 64 KiB at a time. */
static SSL_CTX *new_context(const SSL_METHOD *method) {
  SSL_CTX *ctx = SSL_CTX_new(method);
  if (!ctx) return NULL;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_read_ahead(ctx, 1);
  SSL_CTX_set_default_read_buffer_len(ctx, BUF_SIZE);
  SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
  return ctx;
}

/*
 * tlsContext(certFile, keyFile, caFile | "", clientCerts: 0 none | 1 optional | 2 required) → id.
 * TLS 1.2 at least. Throws with the file and OpenSSL's reason when one cannot be used.
 */
static napi_value js_context(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  char cert[4096], key[4096], ca[4096];
  int32_t mode;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 4 || !string_arg(env, argv[0], cert, sizeof cert) || !string_arg(env, argv[1], key, sizeof key) || !string_arg(env, argv[2], ca, sizeof ca) ||
      napi_get_value_int32(env, argv[3], &mode) != napi_ok || mode < 0 || mode > 2)
    return throw_error(env, "tls: tlsContext(certFile, keyFile, caFile, clientCerts 0|1|2)");
  int id = 0;
  while (id < MAX_CONTEXTS && contexts[id]) id++;
  if (id == MAX_CONTEXTS) return throw_error(env, "tls: too many contexts");
  ERR_clear_error();
  SSL_CTX *ctx = new_context(TLS_server_method());
  if (!ctx) return throw_openssl(env, "cannot make a context for", cert);
  const char *problem = NULL, *file = NULL;
  if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) problem = "cannot use the certificate", file = cert;
  else if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) problem = "cannot use the key", file = key;
  else if (SSL_CTX_check_private_key(ctx) != 1) problem = "the key does not match the certificate", file = key;
  else if (*ca && SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) problem = "cannot use the CA", file = ca;
  if (problem) {
    SSL_CTX_free(ctx);
    return throw_openssl(env, problem, file);
  }
  if (*ca) {
    STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(ca);
    if (names) SSL_CTX_set_client_CA_list(ctx, names);
  }
  if (mode > 0) SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | (mode == 2 ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), accept_any);
  ERR_clear_error();
  contexts[id] = ctx;
  return num(env, id);
}

static int context_arg(napi_env env, napi_value v, SSL_CTX **ctx) {
  int32_t id;
  if (napi_get_value_int32(env, v, &id) != napi_ok || id < 0 || id >= MAX_CONTEXTS || !contexts[id]) return 0;
  *ctx = contexts[id];
  return 1;
}

/* An IP address (v4 or v6), which SNI must not carry (RFC 6066, section 3). */
static int is_address(const char *name) {
  unsigned char addr[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1;
}

/* tlsContextFree(id): sessions already accepted keep their own reference. */
static napi_value js_context_free(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg;
  SSL_CTX *ctx;
  napi_get_cb_info(env, info, &argc, &arg, NULL, NULL);
  if (argc < 1 || !context_arg(env, arg, &ctx)) return throw_error(env, "tls: tlsContextFree(context)");
  int32_t id;
  napi_get_value_int32(env, arg, &id);
  SSL_CTX_free(ctx);
  contexts[id] = NULL;
  return NULL;
}

/*
 * A new session on a copy of `fd` (the caller closes its own whenever it likes), in its handshake:
 * the server side when `server_name` is NULL, else the client side, sending `server_name` as SNI
 * when it is a name. Its handle, or -1 when every slot is taken. Caller holds mu.
 */
static double open_session(SSL_CTX *ctx, int fd, const char *server_name) {
  for (uint32_t slot = 0; slot < MAX_SESSIONS; slot++) {
    session_t *s = &sessions[slot];
    if (s->state != S_FREE) continue;
    int own = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (own < 0) return -1;
    fcntl(own, F_SETFL, fcntl(own, F_GETFL) | O_NONBLOCK);
    ERR_clear_error();
    s->ssl = SSL_new(ctx);
    if (!s->ssl || SSL_set_fd(s->ssl, own) != 1 || (server_name && *server_name && !is_address(server_name) && SSL_set_tlsext_host_name(s->ssl, server_name) != 1)) {
      SSL_free(s->ssl);
      s->ssl = NULL;
      close(own);
      ERR_clear_error();
      return -1;
    }
    if (server_name) SSL_set_connect_state(s->ssl);
    else SSL_set_accept_state(s->ssl);
    SSL_set_mode(s->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    s->fd[TCP] = own;
    s->state = S_HANDSHAKE;
    /* The client speaks first: a server starts on the ClientHello, a client sends it as soon as
     * the thread finds the socket writable (at once: it is connected). */
    set_interest(s, slot, TCP, server_name ? EPOLLOUT : EPOLLIN);
    return handle_of(slot, s->gen);
  }
  return -1;
}

/*
 * tlsAccept(context, fd) → handle, or -1 when every slot is taken. The fd (an accepted TCP socket)
 * is duplicated: the caller closes its own copy whenever it likes.
 */
static napi_value js_accept(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  SSL_CTX *ctx;
  int32_t fd;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (epfd < 0) return throw_error(env, "tls: tlsInit() first");
  if (argc < 2 || !context_arg(env, argv[0], &ctx) || napi_get_value_int32(env, argv[1], &fd) != napi_ok || fd < 0)
    return throw_error(env, "tls: tlsAccept(context, fd)");
  pthread_mutex_lock(&mu);
  double handle = open_session(ctx, fd, NULL);
  pthread_mutex_unlock(&mu);
  return num(env, handle);
}

/* Runs `body` (with `arg2`) on the live session `handle` names, with mu held; undefined for a handle that names none. */
static napi_value with_session(napi_env env, napi_callback_info info, const char *usage, napi_value (*body)(napi_env, session_t *, uint32_t, int), int arg2) {
  size_t argc = 1;
  napi_value arg, out = NULL;
  double h;
  napi_get_cb_info(env, info, &argc, &arg, NULL, NULL);
  if (argc < 1 || napi_get_value_double(env, arg, &h) != napi_ok || h < 0) return throw_error(env, usage);
  uint32_t slot = (uint32_t)((uint64_t)h % MAX_SESSIONS), gen = (uint32_t)((uint64_t)h / MAX_SESSIONS);
  pthread_mutex_lock(&mu);
  session_t *s = &sessions[slot];
  if (s->state != S_FREE && s->gen == gen) out = body(env, s, slot, arg2);
  pthread_mutex_unlock(&mu);
  return out;
}

/*
 * tlsRelay(handle) → the JavaScript end of a new socketpair (nonblocking), whose other end the
 * thread joins to the session; -errno if the pair cannot be made. Only after "ready".
 */
static napi_value start_relay(napi_env env, session_t *s, uint32_t slot, int unused) {
  (void)unused;
  if (s->state != S_DECIDING) return throw_error(env, "tls: tlsRelay() before the handshake finished");
  int pair[2] = {-1, -1};
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) < 0) return num(env, -(double)errno);
  s->to_plain.data = malloc(BUF_SIZE);
  s->to_tls.data = malloc(BUF_SIZE);
  s->to_plain.cap = s->to_tls.cap = BUF_SIZE;
  if (!s->to_plain.data || !s->to_tls.data) {
    close(pair[0]);
    close(pair[1]);
    return num(env, -(double)ENOMEM);
  }
  s->fd[PLAIN] = pair[0];
  s->state = S_RELAY;
  /* A first pass here: bytes OpenSSL already holds would not wake epoll. Its end, if any, is
   * reported (and may already have released the session: `s` is not read after it). */
  relay(s, slot);
  ERR_clear_error();
  return num(env, pair[1]);
}

static napi_value js_relay(napi_env env, napi_callback_info info) { return with_session(env, info, "tls: tlsRelay(handle)", start_relay, 0); }

/* tlsClose(handle): ends the session at once (refused, timed out, or given up), no event follows. */
static napi_value close_session(napi_env env, session_t *s, uint32_t slot, int unused) {
  (void)unused;
  if (s->directed) directed_gone(env);
  release(s, slot);
  return NULL;
}

static napi_value js_close(napi_env env, napi_callback_info info) { return with_session(env, info, "tls: tlsClose(handle)", close_session, 0); }

/* ---- directed: the socketpair set aside, the session straight to a device for a while ----------- */

/*
 * Reads everything `fd` holds now (it is nonblocking) and puts it before (front) or after the
 * bytes `f` holds, growing `f` past BUF_SIZE if it must (a socketpair queue is a few hundred KiB
 * at most). 0; 1 when it met the end of `fd` (what came before it is taken); -errno with `f` unchanged.
 */
static int take_queued(int fd, flow_t *f, int front) {
  size_t len = 0, size = 0;
  char *taken = NULL;
  int eof = 0;
  for (;;) {
    if (size - len < 16384) {
      char *grown = realloc(taken, size + BUF_SIZE);
      if (!grown) return free(taken), -ENOMEM;
      taken = grown;
      size += BUF_SIZE;
    }
    ssize_t n = read(fd, taken + len, size - len);
    if (n > 0) len += (size_t)n;
    else if (n < 0 && errno == EINTR) continue;
    else if (n == 0 && (eof = 1)) break;
    else if (errno == EAGAIN) break;
    else return free(taken), -errno;
  }
  size_t held = f->end - f->start, total = held + len;
  if (!len) return free(taken), eof;
  char *joined = malloc(total > BUF_SIZE ? total : BUF_SIZE);
  if (!joined) return free(taken), -ENOMEM;
  memcpy(joined + (front ? len : 0), f->data + f->start, held);
  memcpy(joined + (front ? 0 : held), taken, len);
  free(taken);
  free(f->data);
  f->data = joined;
  f->start = 0;
  f->end = total;
  f->cap = total > BUF_SIZE ? total : BUF_SIZE;
  return eof;
}

/* tlsDirect's second fd: the JavaScript end of the session's socketpair (main thread only). */
static int direct_js_fd = -1;

static napi_value start_direct(napi_env env, session_t *s, uint32_t slot, int device) {
  /* Only a socketpair relay with both directions open: an end is JavaScript's to pass on. */
  if (s->state != S_RELAY || s->directed || s->tls_eof || s->plain_eof || s->plain_shut || s->tls_shut) return num(env, -(double)EINVAL);
  int own = fcntl(device, F_DUPFD_CLOEXEC, 3);
  if (own < 0) return num(env, -(double)errno);
  /* Order kept both ways: the client's bytes JavaScript has not read yet go to the device before
   * those the thread still holds; the device's bytes JavaScript wrote to the socketpair go to the
   * client after those the thread holds, and before anything read from the device. */
  int rc = take_queued(direct_js_fd, &s->to_plain, 1);
  if (rc == 1) rc = 0; /* an end there would be the thread's own shutdown, excluded above */
  if (!rc) rc = take_queued(s->fd[PLAIN], &s->to_tls, 0);
  if (rc) {
    /* Not directed after all; what was taken stays in order (JavaScript's unread bytes come back
     * to it first), and an end JavaScript gave the socketpair meanwhile is passed on. */
    close(own);
    if (rc == 1) s->plain_eof = 1;
    relay(s, slot);
    ERR_clear_error();
    return num(env, rc == 1 ? -(double)EPIPE : rc);
  }
  set_interest(s, slot, PLAIN, 0);
  s->pair_fd = s->fd[PLAIN];
  s->fd[PLAIN] = own;
  s->plain_full = 0;
  s->directed = 1;
  s->detach_asked = 0;
  s->dev_in = s->dev_out = 0;
  if (directed_sessions++ == 0) napi_ref_threadsafe_function(env, on_event);
  relay(s, slot); /* may end the session: `s` is not read after it */
  ERR_clear_error();
  return num(env, 0);
}

/*
 * tlsDirect(handle, deviceFd, jsFd) → 0, or -errno when the session cannot be directed now (it
 * stays as it was). The caller has stopped reading jsFd (its socketpair end) and writing to it,
 * and reads and writes the device no more until tlsUndirect; "detach" tells it to call that.
 */
static napi_value js_direct(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int32_t device = -1, js = -1;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3 || napi_get_value_int32(env, argv[1], &device) != napi_ok || napi_get_value_int32(env, argv[2], &js) != napi_ok || device < 0 || js < 0)
    return throw_error(env, "tls: tlsDirect(handle, deviceFd, jsFd)");
  int fl = fcntl(device, F_GETFL), jfl = fcntl(js, F_GETFL);
  if (fl < 0 || !(fl & O_NONBLOCK) || jfl < 0 || !(jfl & O_NONBLOCK)) return num(env, -(double)EINVAL);
  direct_js_fd = js;
  napi_value out = with_session(env, info, "tls: tlsDirect(handle, deviceFd, jsFd)", start_direct, device);
  direct_js_fd = -1;
  return out;
}

static napi_value direct_totals(napi_env env, session_t *s) {
  napi_value pair;
  napi_create_array_with_length(env, 2, &pair);
  napi_set_element(env, pair, 0, num(env, s->dev_in));
  napi_set_element(env, pair, 1, num(env, s->dev_out));
  return pair;
}

/*
 * tlsUndirect(handle) → [read from the device, written to it]: the socketpair is the plain side
 * again. What the thread holds for the device goes to the socketpair (JavaScript writes it on);
 * what it read from the device goes to the client. Undefined for a session already ended.
 */
static napi_value stop_direct(napi_env env, session_t *s, uint32_t slot, int unused) {
  (void)unused;
  napi_value totals = direct_totals(env, s);
  if (!s->directed) return totals;
  directed_gone(env);
  set_interest(s, slot, PLAIN, 0);
  close(s->fd[PLAIN]);
  s->fd[PLAIN] = s->pair_fd;
  s->pair_fd = -1;
  s->plain_full = 0;
  s->directed = s->detach_asked = 0;
  relay(s, slot); /* may end the session: `s` is not read after it */
  ERR_clear_error();
  return totals;
}

static napi_value js_undirect(napi_env env, napi_callback_info info) { return with_session(env, info, "tls: tlsUndirect(handle)", stop_direct, 0); }

static napi_value totals_of(napi_env env, session_t *s, uint32_t slot, int unused) {
  (void)slot, (void)unused;
  return direct_totals(env, s);
}

/* tlsDirectTotals(handle) → [read from the device, written to it] while directed (live statistics). */
static napi_value js_direct_totals(napi_env env, napi_callback_info info) { return with_session(env, info, "tls: tlsDirectTotals(handle)", totals_of, 0); }

/* ---- client side ------------------------------------------------------------------------------ */

/*
 * tlsClientContext(certFile | "", keyFile | "", caFile | "") → id: our certificate for servers that
 * ask for one, TLS 1.2 at least. The server's chain is checked against the CA file or, without one,
 * the system's store (OpenSSL's default verify paths, /etc/ssl/certs on Debian; Node's own TLS uses
 * the roots bundled into node instead, so a CA added to the system only is trusted here alone).
 * The check never aborts the handshake: its verdict comes with "ready", and JavaScript decides (a
 * pinned self-signed server is fine) and says why it refuses.
 */
static napi_value js_client_context(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  char cert[4096], key[4096], ca[4096];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3 || !string_arg(env, argv[0], cert, sizeof cert) || !string_arg(env, argv[1], key, sizeof key) || !string_arg(env, argv[2], ca, sizeof ca) || !*cert != !*key)
    return throw_error(env, "tls: tlsClientContext(certFile, keyFile, caFile), the certificate and its key together");
  int id = 0;
  while (id < MAX_CONTEXTS && contexts[id]) id++;
  if (id == MAX_CONTEXTS) return throw_error(env, "tls: too many contexts");
  ERR_clear_error();
  SSL_CTX *ctx = new_context(TLS_client_method());
  if (!ctx) return throw_openssl(env, "cannot make a client context for", *cert ? cert : "the server");
  const char *problem = NULL, *file = NULL;
  if (*cert && SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) problem = "cannot use the certificate", file = cert;
  else if (*key && SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) problem = "cannot use the key", file = key;
  else if (*cert && SSL_CTX_check_private_key(ctx) != 1) problem = "the key does not match the certificate", file = key;
  else if (*ca && SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) problem = "cannot use the CA", file = ca;
  if (problem) {
    SSL_CTX_free(ctx);
    return throw_openssl(env, problem, file);
  }
  /* A system without a store verifies nothing, which the verdict then says: not an error here. */
  if (!*ca) SSL_CTX_set_default_verify_paths(ctx);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any);
  ERR_clear_error();
  contexts[id] = ctx;
  return num(env, id);
}

/*
 * tlsConnect(context, fd, serverName) → handle, or -1 when every slot is taken: the client side of
 * a handshake on a connected TCP socket from which nothing was read (the fd is duplicated, as with
 * tlsAccept). serverName goes out as SNI unless it is "" or an IP address. Then the same events as
 * an accepted session, "ready" carrying the server's chain leaf first; tlsRelay and tlsClose alike.
 */
static napi_value js_connect(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  SSL_CTX *ctx;
  int32_t fd;
  char name[256];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (epfd < 0) return throw_error(env, "tls: tlsInit() first");
  if (argc < 3 || !context_arg(env, argv[0], &ctx) || napi_get_value_int32(env, argv[1], &fd) != napi_ok || fd < 0 || !string_arg(env, argv[2], name, sizeof name))
    return throw_error(env, "tls: tlsConnect(context, fd, serverName)");
  pthread_mutex_lock(&mu);
  double handle = open_session(ctx, fd, name);
  pthread_mutex_unlock(&mu);
  return num(env, handle);
}

void tls_define(napi_env env, napi_value exports) {
  static const addon_function fns[] = {
      {"tlsInit", js_init},   {"tlsContext", js_context}, {"tlsContextFree", js_context_free},
      {"tlsAccept", js_accept}, {"tlsRelay", js_relay},   {"tlsClose", js_close},
      {"tlsDirect", js_direct}, {"tlsUndirect", js_undirect}, {"tlsDirectTotals", js_direct_totals},
      {"tlsClientContext", js_client_context}, {"tlsConnect", js_connect},
  };
  define_functions(env, exports, fns, sizeof fns / sizeof fns[0]);
}
