import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LaplinkError } from '../errors.js';

export class BusyError extends LaplinkError {}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Runs `fn` holding an exclusive pid lock file. Two links' `generate` both merge into
 * /etc/hosts and pap-secrets: without this, the second could write back a file read before the
 * first renamed its version, losing the first link's block. A lock of a dead process is taken over.
 */
export async function withLock<T>(path: string, fn: () => Promise<T>, options: { waitMs?: number } = {}): Promise<T> {
  const deadline = Date.now() + (options.waitMs ?? 10_000);
  await mkdir(dirname(path), { recursive: true });
  for (;;) {
    try {
      const fd = await open(path, 'wx', 0o644);
      await fd.writeFile(`${process.pid}\n`);
      await fd.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) {
        await unlink(path).catch(() => undefined);
        continue;
      }
      if (Date.now() > deadline) throw new BusyError(`another laplink (pid ${pid}) is writing configuration; lock ${path}`);
      await sleep(50);
    }
  }
  try {
    return await fn();
  } finally {
    await unlink(path).catch(() => undefined);
  }
}
