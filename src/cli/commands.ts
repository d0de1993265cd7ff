import type { Command } from 'commander';

type CommandModule = () => Promise<{ register(program: Command): void }>;

/**
 * Every subcommand lives in its own module exporting `register(program)`; this table is the only
 * place that knows them all. (`laplink chat` is also dispatched early by bin/laplink.js for speed.)
 */
export const commandModules: Readonly<Record<string, CommandModule>> = {
  init: () => import('./init.js'),
  generate: () => import('./generate.js'),
  remove: () => import('./remove.js'),
  check: () => import('./check.js'),
  bridge: () => import('./bridge.js'),
  serve: () => import('./serve.js'),
  connect: () => import('./connect.js'),
  status: () => import('./status.js'),
  stop: () => import('./stop.js'),
  modem: () => import('./modem.js'),
  chat: () => import('./chat-command.js'),
  exporter: () => import('./exporter.js'),
  web: () => import('./web.js'),
};

/**
 * The modules to load for this command line: only the named subcommand's when there is one. A
 * bridge serving 64 ports or pppd's `pty` program has no use for the renderer, the supervisor or
 * their libraries, and loading them costs tens of MB of RSS and a slower start (issue 7 / 8).
 * Help, version and unknown names get every module, so listings and "did you mean" stay complete.
 */
export function modulesFor(args: readonly string[]): CommandModule[] {
  const name = args.find((a) => !a.startsWith('-'));
  const one = name !== undefined && Object.hasOwn(commandModules, name) ? commandModules[name] : undefined;
  return one ? [one] : Object.values(commandModules);
}
