import type { Command } from 'commander';
import { EXIT } from '../exit-codes.js';
import { checkLink } from '../profile/check.js';
import { loadProfile } from '../profile/load.js';
import { recoverForProfile } from '../render/generate.js';
import { describeRecovery, JOURNAL_PATH } from '../render/journal.js';
import { underRoot } from '../render/write.js';
import { existsSync } from 'node:fs';

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
      // an interrupted generate is finished (or rolled back) first, so what follows sees one whole set
      const interrupted = await recoverForProfile(loaded, opts.root).then(
        (r) => { const text = describeRecovery(r); return text ? { level: 'warn' as const, what: 'interrupted run', detail: text } : undefined; },
        (err: Error) => (existsSync(underRoot(opts.root, JOURNAL_PATH)) ? { level: 'FAIL' as const, what: 'interrupted run', detail: err.message } : undefined),
      );
      const results = [...(interrupted ? [interrupted] : []), ...(await checkLink(loaded, { root: opts.root, lockDir: opts.lockDir }))];
      const failed = results.some((r) => r.level === 'FAIL');
      if (opts.json) process.stdout.write(`${JSON.stringify({ profile: loaded.path, ok: !failed, checks: results }, null, 2)}\n`);
      else for (const r of results) process.stdout.write(`${r.level.padEnd(4)} ${r.what}: ${r.detail}\n`);
      if (failed) process.exitCode = EXIT.FAILED;
    });
}
