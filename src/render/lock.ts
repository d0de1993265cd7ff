import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LaplinkError } from '../errors.js';
import { pidAlive as alive } from '../pid.js';

export class BusyError extends LaplinkError {}

/**
 * Runs `fn` holding an exclusive pid lock file. Two links' `generate` both merge into
 * /etc/hosts and pap-secrets: without this, the second could write back a file read before the
 * first renamed its version, losing the first link's block. A lock of a dead process is taken over.
 */
export async function withLock<T>(path: string, fn: () => Promise<T>, options: { waitMs?: number } = {}): Promise<T> {
  const deadline = Date.now() + (options.waitMs ?? 10_000);
  await mkdir(dirname(path), { recursive: true });
  // The lock appears with its pid already inside (written to a temp file, then hard-linked into
  // place), so a waiter never reads a half-made lock and mistakes it for a dead one.
  const mine = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(mine, `${process.pid}\n`, { mode: 0o644 });
  try {
    for (;;) {
      try {
        await link(mine, path);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
        if (Date.now() > deadline) throw new BusyError(`another laplink (pid ${pid}) is writing configuration; lock ${path}`);
        await sleep(50);
        continue;
      }
      // Take a dead holder's lock away atomically, and only if it is still that dead holder's.
      const stale = `${path}.stale-${randomBytes(4).toString('hex')}`;
      if (await rename(path, stale).then(() => true, () => false)) {
        const moved = Number((await readFile(stale, 'utf8').catch(() => '')).trim());
        if (moved !== pid && Number.isInteger(moved) && alive(moved)) await link(stale, path).catch(() => undefined);
        await unlink(stale).catch(() => undefined);
      }
    }
  } finally {
    await unlink(mine).catch(() => undefined);
  }
  try {
    return await fn();
  } finally {
    await unlink(path).catch(() => undefined);
  }
}
