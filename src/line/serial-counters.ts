/**
 * The kernel's own counters of a serial line (TIOCGICOUNT, linux/serial.h `struct
 * serial_icounter_struct`): bytes each way, framing/parity/overrun errors, breaks, and how often each
 * modem line changed. A UART driver keeps them from boot; a pseudo-terminal keeps none, and says so
 * with ENOTTY or EINVAL, which is a fact about the tty ("no counters"), not a failure.
 *
 * Opening a serial device is not free: the first open raises DTR and RTS, the last close drops them
 * when HUPCL is set. So this module opens only what the kernel calls a tty (never, say, a watchdog
 * a tampered state file could name), and callers read a line only while its owner (pppd, the bridge)
 * holds it open, when one more open and close changes nothing on the wire.
 */
import { closeSync, fstatSync, constants as fsConstants, openSync, realpathSync, statSync } from 'node:fs';
import { endianness } from 'node:os';
import { basename } from 'node:path';
import { LineError } from '../errors.js';
import { errnoText } from '../socket-reason.js';
import { NativeCodeMissingError, outputSpeed, serialIcount, SyscallError } from './libc.js';

/** cts, dsr, rng, dcd, rx, tx, frame, overrun, parity, brk, buf_overrun, reserved[9]: 20 ints. */
export const ICOUNT_STRUCT_SIZE = 20 * 4;

export interface SerialCounters {
  /** Bytes received and sent by the UART. */
  rx: number;
  tx: number;
  frame: number;
  parity: number;
  /** Bytes the UART lost because the driver did not read its FIFO in time. */
  overrun: number;
  /** Bytes lost because the tty layer's buffer was full. */
  bufOverrun: number;
  /** Breaks received. */
  brk: number;
  /** Changes of each modem status line. */
  cts: number;
  dsr: number;
  ri: number;
  dcd: number;
}

/** Field order of struct serial_icounter_struct. */
const FIELDS = ['cts', 'dsr', 'ri', 'dcd', 'rx', 'tx', 'frame', 'overrun', 'parity', 'brk', 'bufOverrun'] as const satisfies ReadonlyArray<keyof SerialCounters>;

/**
 * Decodes the struct TIOCGICOUNT fills. The fields are `int` copies of the driver's u32 counters,
 * so a count past 2^31 reads as negative: read unsigned, it keeps counting up to 2^32 and wraps
 * like the counter it is.
 */
export function decodeSerialIcount(buf: Buffer, byteOrder: 'LE' | 'BE' = endianness()): SerialCounters {
  if (buf.length < FIELDS.length * 4) throw new RangeError(`serial_icounter_struct needs ${FIELDS.length * 4} bytes, got ${buf.length}`);
  const out = {} as SerialCounters;
  FIELDS.forEach((field, i) => {
    out[field] = byteOrder === 'LE' ? buf.readUInt32LE(i * 4) : buf.readUInt32BE(i * 4);
  });
  return out;
}

export interface TtyReading {
  path: string;
  /** The line's speed in bit/s as the kernel has it configured now (termios output speed). */
  speed?: number;
  counters?: SerialCounters;
  /** Why there are no counters (a pseudo-terminal's driver keeps none). */
  noCounters?: string;
}

/** missing: no such path (a USB adapter unplugged); the others are worth an operator's look. */
export type TtyProblem = 'missing' | 'not-a-tty' | 'cannot-open' | 'ioctl-failed';

export class TtyCountersError extends LineError {
  readonly problem: TtyProblem;
  constructor(problem: TtyProblem, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.problem = problem;
  }
}

/** Unix98 pty slaves (/dev/pts/N): majors 136-143, not registered in sysfs. */
const PTY_SLAVE_MAJORS = [136, 143] as const;
/** /dev/tty, /dev/console, /dev/ptmx: a tty class in sysfs, but not lines (opening ptmx makes a pty). */
const TTYAUX_MAJOR = 5;

const major = (rdev: number) => Number((BigInt(rdev) >> 8n) & 0xfffn);
const minor = (rdev: number) => Number((BigInt(rdev) & 0xffn) | ((BigInt(rdev) >> 12n) & 0xfff00n));

/** Whether the kernel files this character device under the tty class. */
function isTtyDevice(rdev: number): boolean {
  const maj = major(rdev);
  if (maj >= PTY_SLAVE_MAJORS[0] && maj <= PTY_SLAVE_MAJORS[1]) return true;
  if (maj === TTYAUX_MAJOR) return false;
  try {
    return basename(realpathSync(`/sys/dev/char/${maj}:${minor(rdev)}/subsystem`)) === 'tty';
  } catch {
    return false;
  }
}

/** What the errno's words leave out when a tty will not open: who may open one, who holds it, and
 *  why a pty answers EIO (the kernel's pty_open refuses a slave whose master is gone or locked). */
const OPEN_HINTS: Partial<Record<string, string>> = {
  EACCES: 'the reader needs the dialout group or root',
  EBUSY: 'opened exclusively, TIOCEXCL',
  EIO: 'on a pty: its other end is closed, or not unlocked yet',
};

function openFailure(path: string, err: NodeJS.ErrnoException): TtyCountersError {
  const hint = err.code === undefined ? undefined : OPEN_HINTS[err.code];
  return new TtyCountersError(err.code === 'ENOENT' ? 'missing' : 'cannot-open', `${path}: ${errnoText(err)}${hint ? ` (${hint})` : ''}`, { cause: err });
}

/**
 * Speed and counters of the tty at `path`. Throws TtyCountersError when the path is missing, is not
 * a tty, or cannot be opened; a tty whose driver keeps no counters returns `noCounters`.
 * Synchronous: a handful of syscalls that do not block (O_NONBLOCK open, ioctls) cost less than the
 * thread-pool round trips of their async forms, which made a scrape of 72 ttys miss its 5 ms.
 */
export function readTtyCounters(path: string): TtyReading {
  let fd: number;
  try {
    const before = statSync(path);
    if (!before.isCharacterDevice() || !isTtyDevice(before.rdev)) throw new TtyCountersError('not-a-tty', `${path}: not a tty device (not opened)`);
    fd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_NOCTTY | fsConstants.O_NONBLOCK);
    // the path could have been swapped between stat and open: read only the device we vetted
    const opened = fstatSync(fd);
    if (opened.rdev !== before.rdev || !opened.isCharacterDevice()) {
      closeSync(fd);
      throw new TtyCountersError('not-a-tty', `${path}: changed while being opened (not read)`);
    }
  } catch (err) {
    if (err instanceof TtyCountersError) throw err;
    throw openFailure(path, err as NodeJS.ErrnoException);
  }
  try {
    let speed: number | undefined;
    try {
      speed = outputSpeed(fd);
    } catch (err) {
      if (!(err instanceof SyscallError)) throw err;
    }
    const buf = Buffer.alloc(ICOUNT_STRUCT_SIZE);
    try {
      if (!serialIcount(fd, buf)) return { path, speed, noCounters: 'its driver keeps no counters (a pseudo-terminal)' };
    } catch (err) {
      if (!(err instanceof SyscallError)) throw err;
      throw new TtyCountersError('ioctl-failed', `${path}: cannot read its counters: ${err.message}`, { cause: err });
    }
    return { path, speed, counters: decodeSerialIcount(buf) };
  } catch (err) {
    if (err instanceof NativeCodeMissingError) throw new TtyCountersError('ioctl-failed', `${path}: ${err.message}`, { cause: err });
    throw err;
  } finally {
    closeSync(fd);
  }
}

/** How much each counter grew from `before` to `after`, modulo 2^32 (the driver's counters wrap). */
export function counterGrowth(before: SerialCounters, after: SerialCounters): SerialCounters {
  const out = {} as SerialCounters;
  for (const f of FIELDS) out[f] = (after[f] - before[f] + 2 ** 32) % 2 ** 32;
  return out;
}

export interface LineTrouble {
  kind: 'framing' | 'overrun' | 'buffer-overrun' | 'break';
  /** Errors of this kind over the interval. */
  count: number;
  /** The likely cause, in an operator's words. */
  cause: string;
}

/** What a growth of the error counters says about the line (none for a clean interval), for a
 *  status view or `check` to flag a line before its link drops. */
export function lineTroubles(growth: SerialCounters): LineTrouble[] {
  const out: LineTrouble[] = [];
  const framing = growth.frame + growth.parity;
  if (framing > 0) out.push({ kind: 'framing', count: framing, cause: 'framing or parity errors: the two ends differ in speed or framing, the cable is bad or loose, or the line is noisy' });
  if (growth.overrun > 0) out.push({ kind: 'overrun', count: growth.overrun, cause: 'UART overruns: bytes came faster than the driver read them; use hardware flow control (flow: rtscts) or a lower speed' });
  if (growth.bufOverrun > 0) out.push({ kind: 'buffer-overrun', count: growth.bufOverrun, cause: 'tty buffer overruns: the program reading the line (pppd, the bridge) did not keep up' });
  if (growth.brk > 0) out.push({ kind: 'break', count: growth.brk, cause: 'breaks received: the other end sent BREAK, or its side of the cable is unplugged or powered off' });
  return out;
}
