/**
 * The libc calls Node core lacks (a new pty, termios speed and raw mode, BREAK, TIOCGICOUNT, one
 * AF_UNIX datagram, a socketpair), made by the project's own addon (native/syscalls.c). Each wrapper returns the
 * call's result or throws SyscallError naming the call and its errno; without the addon (no C
 * compiler at build time, or a platform the package has no prebuilt addon for) each throws
 * NativeCodeMissingError, so only the commands that need one of these calls are affected.
 */
import { closeSync } from 'node:fs';
import { constants } from 'node:os';
import { getSystemErrorName } from 'node:util';
import { LaplinkError } from '../errors.js';
import { addon, addonPath, addonProblem, addonTarget, type Addon } from '../native/addon.js';
import { errnoText } from '../socket-reason.js';

/** A system call failed: `code` is the errno's name (ENOTTY), `errno` its number. */
export class SyscallError extends LaplinkError {
  readonly syscall: string;
  readonly errno: number;
  readonly code: string;
  constructor(syscall: string, errno: number) {
    const code = getSystemErrorName(-errno);
    const text = errnoText({ code });
    super(text === code ? `${syscall}: ${code}` : `${syscall}: ${text} (${code})`);
    this.syscall = syscall;
    this.errno = errno;
    this.code = code;
  }
}

/** The addon did not load, so a call that needs it cannot be made. */
export class NativeCodeMissingError extends LaplinkError {
  constructor(what: string, why: string) {
    super(`${what} needs the native addon, which is not available for ${addonTarget}: ${why}`);
  }
}

function native(what: string): Addon {
  if (!addon) throw new NativeCodeMissingError(what, addonProblem);
  // a pump.node built before the system calls were added to it (a checkout not rebuilt)
  if (typeof addon.sendDatagram !== 'function') throw new NativeCodeMissingError(what, `${addonPath} has no system calls (rebuild it: npm run build)`);
  return addon;
}

const osErrno = constants.errno;

/** The addon's convention: a negative number is -errno. */
function checked<T>(syscall: string, result: T | number): T {
  if (typeof result === 'number' && result < 0) throw new SyscallError(syscall, -result);
  return result as T;
}

/** A connected AF_UNIX stream pair, both ends non-blocking and close-on-exec. */
export function socketPair(): [number, number] {
  const calls = native('a socketpair');
  if (typeof calls.socketPair !== 'function') throw new NativeCodeMissingError('a socketpair', `${addonPath} predates it (rebuild it: npm run build)`);
  return checked('socketpair', calls.socketPair());
}

/** A new pseudo-terminal: its master fd (close-on-exec, non-blocking) and the slave's path (/dev/pts/N). */
export function openPty(): { master: number; slavePath: string } {
  const calls = native('a new pseudo-terminal');
  const master = checked('posix_openpt', calls.openPty());
  try {
    return { master, slavePath: checked('ptsname', calls.ptsName(master)) };
  } catch (err) {
    closeSync(master);
    throw err;
  }
}

/** Puts the tty into raw mode (cfmakeraw): binary-safe both ways, no echo, no signals. */
export function makeRaw(fd: number): void {
  checked('tcsetattr', native('raw mode on a tty').makeRaw(fd));
}

/** The tty's output speed in bit/s, undefined for a speed termios cannot name. */
export function outputSpeed(fd: number): number | undefined {
  return speedFromConstant(checked('tcgetattr', native('the speed of a tty').outputSpeed(fd)));
}

/** Sends a BREAK of the default length (tcsendbreak with duration 0: 0.25 to 0.5 s). */
export function sendBreak(fd: number): void {
  checked('tcsendbreak', native('a BREAK').sendBreak(fd));
}

/**
 * The serial driver's struct serial_icounter_struct (TIOCGICOUNT), raw, into `into`; false when the
 * driver keeps none (ENOTTY, EINVAL: a pty, some USB adapters). That is an answer, not a failure:
 * an exporter scrape asks every tty each time, and an error object per pty was a tenth of its CPU.
 */
export function serialIcount(fd: number, into: Buffer): boolean {
  const result = native('the line counters').serialCounters(fd, into);
  if (result === -osErrno.ENOTTY || result === -osErrno.EINVAL) return false;
  checked('ioctl TIOCGICOUNT', result);
  return true;
}

/** One datagram to an AF_UNIX socket; `address` is a struct sockaddr_un exactly as long as its name. */
export function sendDatagram(address: Buffer, message: Buffer): void {
  checked('sendto', native('a datagram to a unix socket').sendDatagram(address, message));
}

/** termios speed constants (Bnnn) to bits per second, Linux values. */
const speeds: Record<number, number> = {
  0: 0, 1: 50, 2: 75, 3: 110, 4: 134, 5: 150, 6: 200, 7: 300, 8: 600, 9: 1200, 10: 1800, 11: 2400,
  12: 4800, 13: 9600, 14: 19200, 15: 38400, 0o10001: 57600, 0o10002: 115200, 0o10003: 230400,
  0o10004: 460800, 0o10005: 500000, 0o10006: 576000, 0o10007: 921600, 0o10010: 1000000,
  0o10011: 1152000, 0o10012: 1500000, 0o10013: 2000000, 0o10014: 2500000, 0o10015: 3000000,
  0o10016: 3500000, 0o10017: 4000000,
};

function speedFromConstant(b: number): number | undefined {
  return speeds[b];
}
