import type { Command } from 'commander';
import { EXIT } from '../exit-codes.js';
import { checkLink } from '../profile/check.js';
import { loadProfile } from '../profile/load.js';
import { inspectForProfile } from '../render/generate.js';
import { describeInterrupted } from '../render/journal.js';

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
      // a diagnosis changes nothing: an interrupted generate is reported with how to finish it
      const interrupted = await inspectForProfile(loaded, opts.root).then(
        (r) => { const text = describeInterrupted(r, profile); return text ? { level: 'warn' as const, what: 'interrupted run', detail: text } : undefined; },
        (err: Error) => ({ level: 'FAIL' as const, what: 'interrupted run', detail: err.message }),
      );
      const results = [...(interrupted ? [interrupted] : []), ...(await checkLink(loaded, { root: opts.root, lockDir: opts.lockDir }))];
      const failed = results.some((r) => r.level === 'FAIL');
      if (opts.json) process.stdout.write(`${JSON.stringify({ profile: loaded.path, ok: !failed, checks: results }, null, 2)}\n`);
      else for (const r of results) process.stdout.write(`${r.level.padEnd(4)} ${r.what}: ${r.detail}\n`);
      if (failed) process.exitCode = EXIT.FAILED;
    });
}
