import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LOCK_FILE_MAX_BYTES, lockFilePath, parseLockPid } from '../line/uucp-lock.js';
import { readBack, ReadBackError } from '../runtime/read-back.js';
import { pidAlive, type LinkStatus } from './state.js';

/**
 * Finding a pppd left behind by a supervisor that was killed with -9, and naming who holds a serial
 * port's UUCP lock. Never two pppds on one line: before starting, the supervisor looks here.
 */

export interface LockHolder {
  file: string;
  pid: number;
  alive: boolean;
  /** /proc/PID/comm, when the process exists. */
  command?: string;
}

/** Told one line for each file read back that names nobody because it is not one (a FIFO, a device,
 *  too large); whatever reads it goes on without it. */
export type Unreadable = (line: string) => void;

/** The caught refusal of a read back, said through `warn`; names nobody. */
const namesNobody = (warn: Unreadable | undefined) => (err: unknown): undefined => {
  if (err instanceof ReadBackError) warn?.(`${err.message}; ignored`);
  return undefined;
};

/** Who holds the device's UUCP lock (the file pppd's `lock` writes); undefined if no lock or no pid in it. */
export async function readLockHolder(lockDir: string, device: string, warn?: Unreadable): Promise<LockHolder | undefined> {
  const file = lockFilePath(lockDir, device);
  // a lock that is not a regular file of a lock's size names no holder (and is never waited on)
  const pid = await readBack(file, { maxBytes: LOCK_FILE_MAX_BYTES }).then((got) => got && parseLockPid(got.bytes), namesNobody(warn));
  if (pid === undefined) return undefined;
  const alive = pidAlive(pid);
  const command = alive ? (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim() || undefined : undefined;
  return { file, pid, alive, ...(command ? { command } : {}) };
}

/** One line naming the lock holder, for exit status 6. */
export function describeLockHolder(h: LockHolder | undefined, device: string): string {
  if (!h) return `${device} is locked by another program`;
  if (!h.alive) return `${device} has a stale lock ${h.file} (pid ${h.pid} no longer runs): remove it`;
  return `${device} is locked by pid ${h.pid}${h.command ? ` (${h.command})` : ''} through ${h.file}`;
}

/** A pppd killed with SIGKILL cannot remove its UUCP lock: remove the lock if it still names that
 *  (now dead) pid. Returns the file removed, if any. */
export async function removeStaleLock(lockDir: string, device: string, pid: number): Promise<string | undefined> {
  const h = await readLockHolder(lockDir, device);
  if (!h || h.pid !== pid || h.alive) return undefined;
  await rm(h.file, { force: true });
  return h.file;
}

/** argv of a running process from /proc, or undefined. */
export async function cmdline(pid: number): Promise<string[] | undefined> {
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter(Boolean);
  } catch {
    return undefined;
  }
}

/** Whether a process's argv is a pppd for this link (`call NAME` or `file …/peers/NAME`), so a
 *  recycled pid is never mistaken for our pppd. */
export function isPppdFor(argv: string[], name: string): boolean {
  for (let i = 0; i < argv.length - 1; i++) {
    if (argv[i] === 'call' && argv[i + 1] === name) return true;
    if (argv[i] === 'file' && argv[i + 1]!.endsWith(`/peers/${name}`)) return true;
    if (argv[i] === 'linkname' && argv[i + 1] === name) return true;
  }
  return false;
}

export interface OrphanSearch {
  name: string;
  previous?: LinkStatus;
  /** Directory of pppd's `linkname` pid file ppp-NAME.pid (default /var/run). */
  runDir?: string;
  lockDir?: string;
  device?: string;
  /** Told each pid or lock file that is not one (see Unreadable). */
  warn?: Unreadable;
}

/** What pppd's `linkname` pid file RUNDIR/ppp-NAME.pid says: its pid on line 1 and, once the link
 *  is up, its interface on line 2. Anything else (too big, not a regular file, a FIFO) says nothing. */
export async function readPppdPidFile(runDir: string, name: string, warn?: Unreadable): Promise<{ pid: number; iface?: string } | undefined> {
  const got = await readBack(join(runDir, `ppp-${name}.pid`), { maxBytes: LOCK_FILE_MAX_BYTES }).catch(namesNobody(warn));
  const [pidText, iface] = (got?.bytes.toString('latin1') ?? '').split('\n').map((l) => l.trim());
  // pppd writes "%d\n": a line that is not a whole pid names nobody
  if (!/^[1-9]\d{0,9}$/.test(pidText ?? '')) return undefined;
  const pid = Number(pidText);
  return iface ? { pid, iface } : { pid };
}

/** The pid of a still-running pppd of this link whose supervisor is gone, or undefined. */
export async function findOrphanPppd(o: OrphanSearch): Promise<number | undefined> {
  const candidates: number[] = [];
  if (o.previous?.pppdPid && !pidAlive(o.previous.supervisorPid)) candidates.push(o.previous.pppdPid);
  const fromPidFile = (await readPppdPidFile(o.runDir ?? '/var/run', o.name, o.warn))?.pid;
  if (fromPidFile) candidates.push(fromPidFile);
  if (o.device && o.lockDir) {
    const h = await readLockHolder(o.lockDir, o.device, o.warn);
    if (h?.alive) candidates.push(h.pid);
  }
  for (const pid of candidates) {
    if (pid === process.pid || !pidAlive(pid)) continue;
    const argv = await cmdline(pid);
    if (argv && isPppdFor(argv, o.name)) return pid;
  }
  return undefined;
}
