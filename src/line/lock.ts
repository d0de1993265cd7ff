/**
 * UUCP lock files in the HDB format pppd and minicom use: `LOCKDIR/LCK..NAME` holding the PID as
 * "%10d\n". NAME follows pppd's lock() in utils.c exactly, so `pppd lock` and we exclude each other:
 * the part after "dev/" with '/' turned into '_' (/dev/pts/3 → pts_3, /dev/ttyS0 → ttyS0), else the
 * basename. Taken atomically: write a private temp file, then link(2) it to the lock name.
 */
import fs from 'node:fs';
import path from 'node:path';
import { LaplinkError } from '../errors.js';
import { pidAlive as alive } from '../pid.js';

export class LockError extends LaplinkError {
  constructor(
    message: string,
    readonly holderPid?: number,
  ) {
    super(message, 1);
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

/** Reads the pid from a lock file; undefined when unreadable or not a pid. */
export function readLockPid(file: string): number | undefined {
  try {
    return parseLockPid(fs.readFileSync(file));
  } catch {
    return undefined;
  }
}

export function acquireLock(device: string, lockDir: string, pid = process.pid): HeldLock {
  const file = lockFilePath(lockDir, device);
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
      const holder = readLockPid(file);
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
    if (readLockPid(file) === pid) fs.rmSync(file, { force: true });
  };
  process.on('exit', release); // last resort: also on process.exit() paths
  return { file, release };
}
