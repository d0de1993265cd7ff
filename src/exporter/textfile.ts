/**
 * node_exporter's textfile collector mode: the same metrics written to DIR/laplink.prom on an
 * interval. The file is replaced whole (temp file beside it, fsync, rename): node_exporter reads
 * only `*.prom`, so it never sees the temp file, and never half a file.
 */
import { join } from 'node:path';
import { writeDurably } from '../render/journal.js';
import type { Exporter } from './collect.js';

export const TEXTFILE_NAME = 'laplink.prom';

/** Writes the file now and then every `intervalMs` until `signal` aborts (one timer, the interval's). */
export async function runTextfile(exporter: Exporter, dir: string, intervalMs: number, signal: AbortSignal, onError: (text: string) => void, onWritten: () => void = () => undefined): Promise<void> {
  const path = join(dir, TEXTFILE_NAME);
  const write = async () => {
    try {
      await writeDurably(path, await exporter.scrape('prometheus', signal), 0o644);
      onWritten();
    } catch (err) {
      onError(`cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  await write();
  let running: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(write); // a slow write delays the next, never overlaps it
  }, intervalMs);
  await new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
  clearInterval(timer);
  await running;
}
