/**
 * libc calls Node core lacks (openpt, termios), through koffi's prebuilt FFI (no compiler needed).
 * Loaded lazily so commands that never make a pty do not pay for it.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** sizeof(struct termios) on Linux/glibc is 60; a little slack costs nothing. */
export const TERMIOS_SIZE = 64;

export interface Libc {
  posix_openpt(flags: number): number;
  grantpt(fd: number): number;
  unlockpt(fd: number): number;
  ptsname_r(fd: number, buf: Buffer, len: number): number;
  tcgetattr(fd: number, t: Buffer): number;
  tcsetattr(fd: number, action: number, t: Buffer): number;
  cfmakeraw(t: Buffer): void;
  cfgetospeed(t: Buffer): number;
  cfsetspeed(t: Buffer, speed: number): number;
  tcsendbreak(fd: number, duration: number): number;
  /** ioctl(2) with a pointer argument (the only kind this project passes). */
  ioctl(fd: number, request: number, arg: Buffer): number;
  /** errno after the last failing call above. */
  errno(): number;
}

let libc: Libc | undefined;

export function loadLibc(): Libc {
  if (libc) return libc;
  const koffi = require('koffi') as typeof import('koffi');
  const lib = koffi.load('libc.so.6');
  libc = {
    posix_openpt: lib.func('int posix_openpt(int flags)'),
    grantpt: lib.func('int grantpt(int fd)'),
    unlockpt: lib.func('int unlockpt(int fd)'),
    ptsname_r: lib.func('int ptsname_r(int fd, void *buf, size_t len)'),
    tcgetattr: lib.func('int tcgetattr(int fd, void *t)'),
    tcsetattr: lib.func('int tcsetattr(int fd, int action, void *t)'),
    cfmakeraw: lib.func('void cfmakeraw(void *t)'),
    cfgetospeed: lib.func('uint32_t cfgetospeed(void *t)'),
    cfsetspeed: lib.func('int cfsetspeed(void *t, uint32_t speed)'),
    tcsendbreak: lib.func('int tcsendbreak(int fd, int duration)'),
    ioctl: lib.func('int ioctl(int fd, unsigned long request, void *arg)'),
    errno: () => koffi.errno(),
  } as Libc;
  return libc;
}

/** termios speed constants (Bnnn) to bits per second, Linux values. */
const speeds: Record<number, number> = {
  0: 0, 1: 50, 2: 75, 3: 110, 4: 134, 5: 150, 6: 200, 7: 300, 8: 600, 9: 1200, 10: 1800, 11: 2400,
  12: 4800, 13: 9600, 14: 19200, 15: 38400, 0o10001: 57600, 0o10002: 115200, 0o10003: 230400,
  0o10004: 460800, 0o10005: 500000, 0o10006: 576000, 0o10007: 921600, 0o10010: 1000000,
  0o10011: 1152000, 0o10012: 1500000, 0o10013: 2000000, 0o10014: 2500000, 0o10015: 3000000,
  0o10016: 3500000, 0o10017: 4000000,
};

export function speedFromConstant(b: number): number | undefined {
  return speeds[b];
}

export function constantFromSpeed(bps: number): number | undefined {
  for (const [k, v] of Object.entries(speeds)) if (v === bps) return Number(k);
  return undefined;
}
