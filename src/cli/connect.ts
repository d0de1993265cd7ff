import type { Command } from 'commander';
import { addLinkOptions, runLink, type RunLinkFlags } from './run-link.js';

export function register(program: Command): void {
  addLinkOptions(
    program
      .command('connect')
      .description("client: call the server once (exit status is pppd's), or keep the link up with --persist")
      .argument('<profile>', 'link profile (YAML)')
      .option('--persist', 'keep calling: respawn pppd like a server'),
  ).action(async (profile: string, opts: RunLinkFlags) => {
    process.exitCode = await runLink(profile, opts, 'client');
  });
}
