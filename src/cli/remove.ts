import type { Command } from 'commander';
import { changeDiff, removeLink } from '../render/generate.js';
import { describeRecovery } from '../render/journal.js';

export function register(program: Command): void {
  program
    .command('remove')
    .description("delete the link's generated files and managed blocks; everything else stays")
    .argument('<profile>', 'link profile (YAML)')
    .option('--root <dir>', 'work under this directory instead of /')
    .option('--dry-run', 'print a unified diff of what would change; write nothing')
    .action(async (profile: string, opts: { root?: string; dryRun?: boolean }) => {
      const r = await removeLink(profile, { root: opts.root, dryRun: opts.dryRun });
      const recovered = r.recovery && describeRecovery(r.recovery);
      if (recovered) process.stderr.write(`laplink: ${recovered}\n`);
      for (const c of r.changes) {
        // The same words and layout as generate --dry-run.
        const verb = opts.dryRun && (c.action === 'removed' || c.action === 'updated') ? `would be ${c.action}` : c.action;
        process.stdout.write(`${verb.padEnd(opts.dryRun ? 16 : 9)} ${c.fsPath}${c.note ? ` (${c.note})` : ''}\n`);
        if (opts.dryRun) process.stdout.write(changeDiff(c));
      }
    });
}
