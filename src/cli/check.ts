import type { Command } from 'commander';
import { checkLink } from '../profile/check.js';
import { loadProfile } from '../profile/load.js';

export function register(program: Command): void {
  program
    .command('check')
    .description('check the profile, the device, permissions, kernel PPP, pppd/chat, locks and generated files')
    .argument('<profile>', 'link profile (YAML)')
    .option('--root <dir>', 'generated files live under this directory instead of /')
    .option('--lock-dir <dir>', 'UUCP lock directory', '/var/lock')
    .option('--json', 'print {profile, ok, checks: [{level, what, detail}]} instead of lines')
    .action(async (profile: string, opts: { root?: string; lockDir: string; json?: boolean }) => {
      const loaded = await loadProfile(profile);
      const results = await checkLink(loaded, { root: opts.root, lockDir: opts.lockDir });
      const failed = results.some((r) => r.level === 'FAIL');
      if (opts.json) process.stdout.write(`${JSON.stringify({ profile: loaded.path, ok: !failed, checks: results }, null, 2)}\n`);
      else for (const r of results) process.stdout.write(`${r.level.padEnd(4)} ${r.what}: ${r.detail}\n`);
      if (failed) process.exitCode = 1;
    });
}
