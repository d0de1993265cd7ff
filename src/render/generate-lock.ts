import { randomBytes } from 'node:crypto';
import { link, lstat, mkdir, readdir, rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { LaplinkError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { LOCK_FILE_MAX_BYTES } from '../line/uucp-lock.js';
import { pidAlive as alive } from '../pid.js';
import { fileKind, readBack } from '../runtime/read-back.js';
import { sleep } from '../runtime/sleep.js';
import { reasonOf } from './journal.js';
import { WriteError } from './write.js';

export class BusyError extends LaplinkError {}

/**
 * Runs `fn` holding an exclusive pid lock file, passing it the lock temp files of dead runs that
 * were swept on the way in. Two links' `generate` both merge into
 * /etc/hosts and pap-secrets: without this, the second could write back a file read before the
 * first renamed its version, losing the first link's block. A lock of a dead process is taken over;
 * a lock path holding what no laplink makes (a FIFO, a directory, a symlink) is refused.
 */
export async function withLock<T>(path: string, fn: (swept: string[]) => Promise<T>, options: { waitMs?: number } = {}): Promise<T> {
  const deadline = Date.now() + (options.waitMs ?? 10_000);
  // The lock appears with its pid already inside (written to a temp file, then hard-linked into
  // place), so a waiter never reads a half-made lock and mistakes it for a dead one.
  const mine = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(mine, `${process.pid}\n`, { mode: 0o644 });
  } catch (err) {
    // a full disk creates the file and then fails to fill it: never leave an empty one behind
    await unlink(mine).catch(() => undefined);
    throw new WriteError(`cannot write ${path}: ${reasonOf(err)}; nothing was changed`, EXIT.FAILED, { cause: err });
  }
  try {
    for (;;) {
      try {
        await link(mine, path);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new WriteError(`cannot take the lock ${path}: ${reasonOf(err)}; nothing was changed`, EXIT.FAILED, { cause: err });
      }
      await refuseForeignLock(path);
      const pid = await lockPid(path);
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
        if (Date.now() > deadline) throw new BusyError(`another laplink (pid ${pid}) is writing configuration; lock ${path}`);
        await sleep(50);
        continue;
      }
      // Take a dead holder's lock away atomically, and only if it is still that dead holder's.
      const stale = `${path}.stale-${randomBytes(4).toString('hex')}`;
      const notMoved = await rename(path, stale).then(() => undefined, (err: NodeJS.ErrnoException) => err);
      if (notMoved === undefined) {
        const moved = await lockPid(stale);
        if (moved !== pid && Number.isInteger(moved) && alive(moved)) await link(stale, path).catch(() => undefined);
        await unlink(stale).catch(() => undefined);
      } else if (notMoved.code !== 'ENOENT') {
        // ENOENT: another taker moved it first. Anything else (another user's lock in a sticky
        // /run/lock) fails the same way every time: trying again would spin for good.
        throw new WriteError(`cannot take over the lock ${path}, which no live laplink holds: ${reasonOf(notMoved)}; remove it by hand; nothing was changed`, EXIT.FAILED, { cause: notMoved });
      }
    }
  } finally {
    await unlink(mine).catch(() => undefined);
  }
  const swept = await sweepDeadLockTemps(path);
  try {
    return await fn(swept);
  } finally {
    await unlink(path).catch(() => undefined);
  }
}

/**
 * Refuses a lock path that is not a regular file: laplink only ever links a regular file there, so
 * a FIFO, a directory or a symlink (to anything) is someone else's, not a dead holder's lock to move
 * away and delete. lstat, so a link is judged itself and never followed; a path gone since is not
 * refused (the next link() may take it).
 */
async function refuseForeignLock(path: string): Promise<void> {
  const kind = await foreignLockKind(path);
  if (kind) throw new WriteError(`cannot take the lock ${path}: ${foreignLockText(kind)}; nothing was changed`, EXIT.FAILED);
}

/** What stands at a lock path when it is no lock laplink made (`a FIFO`, `a symbolic link`, …):
 *  generate refuses it, and check says so first. Undefined for a regular file or nothing. */
export async function foreignLockKind(path: string): Promise<string | undefined> {
  return lstat(path).then(fileKind, () => undefined);
}

/** The words for such a path, the same in generate's refusal and in check. */
export function foreignLockText(kind: string): string {
  return `it is ${kind}, not a lock file laplink made; remove it by hand`;
}

/** The pid in a generate lock (NaN when it holds none, is gone, or is over a lock's size: such a
 *  lock is a dead one's and is taken over). */
async function lockPid(path: string): Promise<number> {
  const got = await readBack(path, { maxBytes: LOCK_FILE_MAX_BYTES }).catch(() => undefined);
  return got ? Number(got.bytes.toString('latin1').trim()) : Number.NaN;
}

/**
 * The pid-named temp files (`LOCK.PID.xxxxxxxx`) and `.stale-` names of runs killed between
 * creating them and unlinking them; called holding the lock, so no live taker is mid-way.
 */
async function sweepDeadLockTemps(path: string): Promise<string[]> {
  const swept: string[] = [];
  for (const file of await deadLockTemps(path)) if (await unlink(file).then(() => true, () => false)) swept.push(file);
  return swept;
}

/** Those temp and `.stale-` names, found and not removed (what `check` reports). */
export async function deadLockTemps(path: string): Promise<string[]> {
  const base = basename(path);
  const out: string[] = [];
  const names = await readdir(dirname(path)).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(`${base}.`)) continue;
    const m = /^(\d+)\.[0-9a-f]{8}$/.exec(name.slice(base.length + 1));
    const dead = m ? Number(m[1]) !== process.pid && !alive(Number(m[1])) : /^stale-[0-9a-f]{8}$/.test(name.slice(base.length + 1));
    if (dead) out.push(join(dirname(path), name));
  }
  return out;
}
