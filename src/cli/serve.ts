import type { Command } from 'commander';
import { addLinkOptions, runLink, type RunLinkFlags } from './run-link.js';

export function register(program: Command): void {
  addLinkOptions(
    program
      .command('serve')
      .description('server: run pppd on the line and respawn it after every call (exit-status policy, backoff, state file)')
      .argument('<profile>', 'link profile (YAML)')
      .option('--persist', 'accepted for symmetry with connect (a server always respawns)'),
  ).action(async (profile: string, opts: RunLinkFlags) => {
    process.exitCode = await runLink(profile, opts, 'server');
  });
}
