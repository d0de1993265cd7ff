/**
 * `bridge run` loads its config in a short-lived worker thread. The bridge is a daemon that may
 * serve 64 ports for months, while the YAML parser and the schema validator (zod: ~225 modules) are
 * needed for its first 50 ms; loaded in the main isolate they would stay resident for good (about
 * 10 MB of the 64-port RSS, measured with the bench). A worker's isolate, and all it loaded, is
 * freed when the worker exits. Errors come back as the same ConfigError lines (FILE:LINE:COL: …).
 */
import { Worker } from 'node:worker_threads';
import { ConfigError } from '../errors.js';
import type { BridgeConfig } from './config.js';

export type ConfigReply = { ok: true; config: BridgeConfig } | { ok: false; problems: string[] };

export function loadBridgeConfigIsolated(file: string): Promise<BridgeConfig> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./config-worker.js', import.meta.url), { workerData: file });
    let settled = false;
    worker.once('message', (reply: ConfigReply) => {
      settled = true;
      if (reply.ok) resolve(reply.config);
      else reject(new ConfigError(reply.problems));
    });
    worker.once('error', (err) => {
      settled = true;
      reject(new ConfigError([`${file}: cannot be loaded: ${err.message}`]));
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new ConfigError([`${file}: config loader exited (${code}) without an answer`]));
    });
  });
}
