import type { Command } from 'commander';
import { removeLink } from '../render/generate.js';
import { describeRecovery } from '../render/journal.js';

export function register(program: Command): void {
  program
    .command('remove')
    .description("delete the link's generated files and managed blocks; everything else stays")
    .argument('<profile>', 'link profile (YAML)')
    .option('--root <dir>', 'work under this directory instead of /')
    .action(async (profile: string, opts: { root?: string }) => {
      const r = await removeLink(profile, { root: opts.root });
      const recovered = r.recovery && describeRecovery(r.recovery);
      if (recovered) process.stderr.write(`laplink: ${recovered}\n`);
      for (const c of r.changes) {
        process.stdout.write(`${c.action.padEnd(9)} ${c.fsPath}${c.note ? ` (${c.note})` : ''}\n`);
      }
    });
}
