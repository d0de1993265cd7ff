/*
 * The few libc calls Node core lacks: a new pseudo-terminal, termios speed and raw mode, BREAK, the
 * serial driver's counters (TIOCGICOUNT), one AF_UNIX datagram (systemd's notify socket) and a
 * socketpair.
 *
 * Convention: each function checks its arguments and throws a TypeError for a wrong one (a bug in
 * the caller); a failing system call is not thrown but returned as -errno, so the JavaScript side
 * (src/line/libc.ts) turns it into its own typed error with the call's name and the errno's code.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/serial.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "addon.h"
#include "exports.h"

static napi_value number(napi_env env, double v) {
  napi_value out;
  napi_create_double(env, v, &out);
  return out;
}

static napi_value failed(napi_env env) { return number(env, -(double)errno); }

static napi_value type_error(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

/* Reads argument `i` as a file descriptor (a non-negative int32); 0 after throwing otherwise. */
static int fd_arg(napi_env env, napi_value *argv, size_t argc, size_t i, int *fd, const char *usage) {
  int32_t v;
  if (i >= argc || napi_get_value_int32(env, argv[i], &v) != napi_ok || v < 0) {
    type_error(env, usage);
    return 0;
  }
  *fd = v;
  return 1;
}

/* Reads argument `i` as a Buffer (or any Uint8Array view); 0 after throwing otherwise. */
static int buffer_arg(napi_env env, napi_value *argv, size_t argc, size_t i, void **data, size_t *len, const char *usage) {
  bool is;
  if (i >= argc || napi_is_buffer(env, argv[i], &is) != napi_ok || !is || napi_get_buffer_info(env, argv[i], data, len) != napi_ok) {
    type_error(env, usage);
    return 0;
  }
  return 1;
}

#define ARGS(n)                                              \
  size_t argc = (n);                                         \
  napi_value argv[(n) > 0 ? (n) : 1];                        \
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL)

/* openPty() → the master fd of a new, unlocked pseudo-terminal (close-on-exec, not our ctty). */
static napi_value js_open_pty(napi_env env, napi_callback_info info) {
  (void)info;
  /* Non-blocking: libuv cannot take a pty master as a tty without blocking writes (it can reopen
   * only a slave), so the master is moved by the native pump, which waits for it with epoll. */
  int fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return failed(env);
  if (grantpt(fd) != 0 || unlockpt(fd) != 0) {
    int err = errno;
    close(fd);
    return number(env, -(double)err);
  }
  return number(env, fd);
}

/* ptsName(masterFd) → "/dev/pts/N". */
static napi_value js_pts_name(napi_env env, napi_callback_info info) {
  ARGS(1);
  int fd;
  if (!fd_arg(env, argv, argc, 0, &fd, "ptsName(fd): fd must be a non-negative integer")) return NULL;
  char name[128];
  int rc = ptsname_r(fd, name, sizeof name);
  if (rc != 0) return number(env, -(double)rc);
  napi_value out;
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &out);
  return out;
}

/* makeRaw(fd) → 0: no echo, no CR/LF mapping, no signals, 8 bits (cfmakeraw), applied now. */
static napi_value js_make_raw(napi_env env, napi_callback_info info) {
  ARGS(1);
  int fd;
  if (!fd_arg(env, argv, argc, 0, &fd, "makeRaw(fd): fd must be a non-negative integer")) return NULL;
  struct termios t;
  if (tcgetattr(fd, &t) != 0) return failed(env);
  cfmakeraw(&t);
  if (tcsetattr(fd, TCSANOW, &t) != 0) return failed(env);
  return number(env, 0);
}

/* outputSpeed(fd) → the termios output speed constant (Bnnn, not bit/s). */
static napi_value js_output_speed(napi_env env, napi_callback_info info) {
  ARGS(1);
  int fd;
  if (!fd_arg(env, argv, argc, 0, &fd, "outputSpeed(fd): fd must be a non-negative integer")) return NULL;
  struct termios t;
  if (tcgetattr(fd, &t) != 0) return failed(env);
  return number(env, cfgetospeed(&t));
}

/* sendBreak(fd) → 0 after a BREAK of the default length (0.25 to 0.5 s). */
static napi_value js_send_break(napi_env env, napi_callback_info info) {
  ARGS(1);
  int fd;
  if (!fd_arg(env, argv, argc, 0, &fd, "sendBreak(fd): fd must be a non-negative integer")) return NULL;
  if (tcsendbreak(fd, 0) != 0) return failed(env);
  return number(env, 0);
}

/* serialCounters(fd, buffer) → 0 with the driver's struct serial_icounter_struct copied into buffer. */
static napi_value js_serial_counters(napi_env env, napi_callback_info info) {
  ARGS(2);
  int fd;
  void *data;
  size_t len;
  if (!fd_arg(env, argv, argc, 0, &fd, "serialCounters(fd, buffer): fd must be a non-negative integer")) return NULL;
  if (!buffer_arg(env, argv, argc, 1, &data, &len, "serialCounters(fd, buffer): buffer must be a Buffer")) return NULL;
  struct serial_icounter_struct counters;
  if (len < sizeof counters) return type_error(env, "serialCounters(fd, buffer): buffer is smaller than struct serial_icounter_struct");
  if (ioctl(fd, TIOCGICOUNT, &counters) != 0) return failed(env);
  memcpy(data, &counters, sizeof counters);
  return number(env, 0);
}

/*
 * sendDatagram(address, message) → bytes sent: one datagram from a new AF_UNIX socket to `address`,
 * a struct sockaddr_un exactly as long as the address it holds (an abstract name's length counts).
 * Never blocks on a full receive queue, never raises SIGPIPE.
 */
static napi_value js_send_datagram(napi_env env, napi_callback_info info) {
  ARGS(2);
  void *addr, *msg;
  size_t addr_len, msg_len;
  if (!buffer_arg(env, argv, argc, 0, &addr, &addr_len, "sendDatagram(address, message): address must be a Buffer")) return NULL;
  if (!buffer_arg(env, argv, argc, 1, &msg, &msg_len, "sendDatagram(address, message): message must be a Buffer")) return NULL;
  sa_family_t family;
  if (addr_len <= sizeof family || addr_len > sizeof(struct sockaddr_un))
    return type_error(env, "sendDatagram(address, message): address is not a struct sockaddr_un with a name");
  memcpy(&family, addr, sizeof family);
  if (family != AF_UNIX) return type_error(env, "sendDatagram(address, message): address is not AF_UNIX");
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return failed(env);
  ssize_t n = sendto(fd, msg, msg_len, MSG_DONTWAIT | MSG_NOSIGNAL, (const struct sockaddr *)addr, (socklen_t)addr_len);
  int err = errno;
  close(fd);
  return number(env, n < 0 ? -(double)err : (double)n);
}

/* socketPair() → [fd, fd]: a connected AF_UNIX stream pair, non-blocking and close-on-exec; or -errno. */
static napi_value js_socket_pair(napi_env env, napi_callback_info info) {
  (void)info;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) return failed(env);
  napi_value pair;
  napi_create_array_with_length(env, 2, &pair);
  napi_set_element(env, pair, 0, number(env, sv[0]));
  napi_set_element(env, pair, 1, number(env, sv[1]));
  return pair;
}

void syscalls_define(napi_env env, napi_value exports) {
  static const addon_function fns[] = {
      {"openPty", js_open_pty},
      {"ptsName", js_pts_name},
      {"makeRaw", js_make_raw},
      {"outputSpeed", js_output_speed},
      {"sendBreak", js_send_break},
      {"serialCounters", js_serial_counters},
      {"sendDatagram", js_send_datagram},
      {"socketPair", js_socket_pair},
  };
  define_functions(env, exports, fns, sizeof fns / sizeof fns[0]);
}
