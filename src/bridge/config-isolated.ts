/**
 * `bridge run` loads its config in a short-lived worker thread. The bridge is a daemon that may
 * serve 64 ports for months, while the YAML parser and the schema validator (zod: ~225 modules) are
 * needed for its first 50 ms; loaded in the main isolate they would stay resident for good (7–9 MB
 * of the 64-port RSS, measured). A worker's isolate, and all it loaded, is freed when the worker
 * exits, and trimFreedMemory then hands those pages back to the kernel. Config problems come back
 * as the same ConfigError lines (FILE:LINE:COL: …); anything else stays a plain Error, so the CLI
 * reports it as the internal error it is, as before.
 */
import { Worker } from 'node:worker_threads';
import { ConfigError } from '../errors.js';
import { trimFreedMemory } from '../native/addon.js';
import type { BridgeConfig } from './config.js';

export type ConfigReply = { ok: true; config: BridgeConfig } | { ok: false; problems: string[] } | { ok: false; failure: string };

export function loadBridgeConfigIsolated(file: string): Promise<BridgeConfig> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./config-worker.js', import.meta.url), { workerData: file });
    let reply: ConfigReply | undefined;
    let crash: Error | undefined;
    worker.once('message', (r: ConfigReply) => (reply = r));
    worker.once('error', (err) => (crash = err));
    // Settle only once the thread is gone, so that its freed heap can be handed back to the kernel.
    worker.once('exit', (code) => {
      trimFreedMemory();
      if (reply?.ok) resolve(reply.config);
      else if (reply && 'problems' in reply) reject(new ConfigError(reply.problems));
      else if (reply) reject(new Error(reply.failure));
      else reject(crash ?? new Error(`config loader for ${file} exited (${code}) without an answer`));
    });
  });
}
