import type { Command } from 'commander';

/**
 * Every subcommand lives in its own module exporting `register(program)`; this list is the only
 * place that knows them all. (`laplink chat` is also dispatched early by bin/laplink.js for speed.)
 */
export const commandModules: Array<() => Promise<{ register(program: Command): void }>> = [
  () => import('./init.js'),
  () => import('./generate.js'),
  () => import('./remove.js'),
  () => import('./check.js'),
  () => import('./bridge.js'),
  () => import('./serve.js'),
  () => import('./connect.js'),
  () => import('./status.js'),
  () => import('./stop.js'),
];
