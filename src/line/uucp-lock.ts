/**
 * UUCP lock files in the HDB format pppd and minicom use: `LOCKDIR/LCK..NAME` holding the PID as
 * "%10d\n". NAME follows pppd's lock() in utils.c exactly, so `pppd lock` and we exclude each other:
 * the part after "dev/" with '/' turned into '_' (/dev/pts/3 → pts_3, /dev/ttyS0 → ttyS0), else the
 * basename. Taken atomically: write a private temp file, then link(2) it to the lock name.
 *
 * pppd and ser2net name the lock after the path they were given, so /dev/serial/by-id/usb-… and
 * /dev/ttyUSB0 would be two locks on one tty. We lock the device the path resolves to (LCK..ttyUSB0),
 * the lock a tool given the device's own name takes, so two of ours given either path exclude each
 * other, and pppd or minicom given the plain name too.
 */
import fs from 'node:fs';
import path from 'node:path';
import { LaplinkError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { pidAlive as alive } from '../pid.js';
import { readBackSync, ReadBackError } from '../runtime/read-back.js';

export class LockError extends LaplinkError {
  constructor(
    message: string,
    readonly holderPid?: number,
  ) {
    super(message, EXIT.FAILED);
  }
}

export function lockName(device: string): string {
  const i = device.indexOf('dev/');
  const name = i >= 0 ? device.slice(i + 4).replace(/\//g, '_') : path.basename(device);
  return `LCK..${name}`;
}

/** Full path of the lock file pppd's `lock` option would use for `device`. */
export function lockFilePath(lockDir: string, device: string): string {
  return path.join(lockDir, lockName(device));
}

export interface HeldLock {
  readonly file: string;
  release(): void;
}

/**
 * The pid in a UUCP lock file: HDB ASCII ("%10d\n", which some writers follow with a program name)
 * or, from systems with binary locks, a 4-byte native int. undefined when it holds neither. The one
 * parser for the bridge, the supervisor's lock-holder report and `laplink check`.
 */
export function parseLockPid(content: Buffer): number | undefined {
  const n = Number.parseInt(content.toString('latin1').trim(), 10);
  if (Number.isInteger(n)) return n > 0 ? n : undefined;
  if (content.length === 4) {
    const binary = content.readInt32LE(0);
    return binary > 0 ? binary : undefined;
  }
  return undefined;
}

/** A lock file holds 11 bytes, or a little more with a program name; anything larger is not one. */
export const LOCK_FILE_MAX_BYTES = 1024;

/**
 * Reads the pid from a lock file; undefined when there is none, or it holds no pid. A lock file that
 * is not a regular file (a FIFO would block, a device never ends) or is oversized is a ReadBackError.
 */
export function readLockPid(file: string): number | undefined {
  const got = readBackSync(file, { maxBytes: LOCK_FILE_MAX_BYTES });
  return got && parseLockPid(got.bytes);
}

/** The device a path names: symlinks (/dev/serial/by-id/…) resolved; the path itself when it does
 *  not exist (yet). */
export function resolveDevice(device: string): string {
  try {
    return fs.realpathSync(device);
  } catch {
    return device;
  }
}

/** Takes the UUCP lock of the device `device` resolves to (a symlink's target: LCK..ttyUSB0). */
export function acquireLock(device: string, lockDir: string, pid = process.pid): HeldLock {
  const file = lockFilePath(lockDir, resolveDevice(device));
  return acquireLockFile(device, file, lockDir, pid);
}

function holderOf(file: string, device: string): number | undefined {
  try {
    return readLockPid(file);
  } catch (err) {
    if (err instanceof ReadBackError) throw new LockError(`${device}: lock file ${err.message}; remove it if no program uses ${device}`);
    throw err;
  }
}

function acquireLockFile(device: string, file: string, lockDir: string, pid: number): HeldLock {
  const tmp = path.join(lockDir, `LTMP.${pid}.${Math.random().toString(36).slice(2, 8)}`);
  try {
    fs.writeFileSync(tmp, `${String(pid).padStart(10)}\n`, { mode: 0o644, flag: 'wx' });
  } catch (err) {
    throw new LockError(`cannot create lock file in ${lockDir}: ${(err as Error).message}`);
  }
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        fs.linkSync(tmp, file);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 5) {
          throw new LockError(`cannot create lock file ${file}: ${(err as Error).message}`);
        }
      }
      const holder = holderOf(file, device);
      if (holder === pid) break; // ours already (re-open after device loss)
      if (holder !== undefined && alive(holder)) throw new LockError(`${device} is locked by pid ${holder} (${file})`, holder);
      // Stale (dead holder or garbage): remove and retry; link() keeps the race safe.
      try {
        fs.unlinkSync(file);
      } catch {
        /* someone else removed it first */
      }
    }
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  let held = true;
  const release = () => {
    if (!held) return;
    held = false;
    process.off('exit', release);
    if (readLockPidQuietly(file) === pid) fs.rmSync(file, { force: true });
  };
  process.on('exit', release); // last resort: also on process.exit() paths
  return { file, release };
}

/** readLockPid where a lock that cannot be read is simply not ours. */
function readLockPidQuietly(file: string): number | undefined {
  try {
    return readLockPid(file);
  } catch {
    return undefined;
  }
}
