import { readFileSync } from 'node:fs';
import { LaplinkError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { DEFAULT_GRACE_MS } from './defaults.js';
import { sleep } from '../runtime/sleep.js';

/**
 * Ending a pppd, the one way: SIGTERM (pppd sends LCP TermReq, restores the tty, removes its lock
 * and pid file, exits 5), then SIGKILL to its process group after the grace period, then SIGKILL to
 * the group again so a connect script pppd left behind does not hold the line. Used by the
 * supervisor's stop, by ending an orphan, and by `laplink stop` when the supervisor is gone.
 */

/** The process exists but belongs to another user (kill EPERM): only root can end it. */
export class NotPermittedError extends LaplinkError {
  constructor(readonly pid: number) {
    super(`pid ${pid} belongs to another user`, EXIT.FAILED);
  }
}

export interface EndOptions {
  graceMs?: number;
  /** Resolves once the process has exited. Give it for our own child: until reaped it is a zombie,
   *  which kill(pid, 0) still finds. Without it, /proc is polled. */
  exited?: Promise<unknown>;
  /** Called just before the SIGKILL, to say why. */
  onKill?: (pid: number, graceMs: number) => void;
  /** How often /proc is looked at when `exited` is not given. */
  pollMs?: number;
}

/** How ending went: `gone` (not running when asked), `terminated` (ended on SIGTERM), `killed`. */
export type EndResult = 'gone' | 'terminated' | 'killed';

/** Sends `signal` to `pid`; false when there is no such process, NotPermittedError on EPERM. */
export function signalPid(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EPERM') throw new NotPermittedError(pid);
    return false;
  }
}

/** SIGKILL to the process group led by `pid` (pppd runs detached: its own group), else to `pid`. */
function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

/** Gone or a zombie, per /proc (a zombie has ended; only its parent's wait is missing). */
export function processEnded(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return true;
  }
}

async function pollEnded(pid: number, everyMs: number): Promise<void> {
  while (!processEnded(pid)) await sleep(everyMs);
}

export async function endPppd(pid: number, o: EndOptions = {}): Promise<EndResult> {
  if (!signalPid(pid, 'SIGTERM')) return 'gone';
  const graceMs = o.graceMs ?? DEFAULT_GRACE_MS;
  const exited = o.exited ?? pollEnded(pid, o.pollMs ?? 50);
  const deadline = new AbortController();
  const inTime = await Promise.race([exited.then(() => true, () => true), sleep(graceMs, deadline.signal).then(() => false)]);
  deadline.abort();
  if (!inTime) {
    o.onKill?.(pid, graceMs);
    killGroup(pid);
    await exited.catch(() => undefined);
  }
  // A connect script pppd left running shares pppd's group: end it too.
  killGroup(pid);
  return inTime ? 'terminated' : 'killed';
}
