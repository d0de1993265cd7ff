/**
 * Worker-thread entry of loadBridgeConfigIsolated: parses and validates one bridge config and posts
 * the plain result (or the problems) back. Everything it loads dies with the worker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ConfigError } from '../errors.js';
import { loadBridgeConfig } from './config.js';
import type { ConfigReply } from './config-isolated.js';

const file = workerData as string;
let reply: ConfigReply;
try {
  reply = { ok: true, config: await loadBridgeConfig(file) };
} catch (err) {
  reply = err instanceof ConfigError ? { ok: false, problems: err.problems } : { ok: false, failure: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
}
parentPort!.postMessage(reply);
