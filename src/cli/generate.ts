import type { Command } from 'commander';
import { changeDiff, generateLink } from '../render/generate.js';
import { legacyUnitPath } from '../render/render.js';
import { profileWarnings } from '../profile/warnings.js';
import { describeRecovery } from '../render/journal.js';

export function register(program: Command): void {
  program
    .command('generate')
    .description('write every file pppd needs for the link in PROFILE (atomic, all-or-nothing)')
    .argument('<profile>', 'link profile (YAML)')
    .option('--root <dir>', 'write under this directory instead of /')
    .option('--dry-run', 'print a unified diff of what would change; write nothing')
    .action(async (profile: string, opts: { root?: string; dryRun?: boolean }) => {
      const r = await generateLink(profile, { root: opts.root, dryRun: opts.dryRun });
      for (const w of profileWarnings(r.profile)) process.stderr.write(`laplink: warning: ${r.profilePath}: ${w.field} ${w.message}\n`);
      const recovered = r.recovery && describeRecovery(r.recovery);
      if (recovered) process.stderr.write(`laplink: ${recovered}\n`);
      for (const c of r.changes) {
        const verb = opts.dryRun && c.action !== 'unchanged' ? `would be ${c.action}` : c.action;
        process.stdout.write(`${verb.padEnd(opts.dryRun ? 16 : 9)} ${c.fsPath}\n`);
        if (opts.dryRun) process.stdout.write(changeDiff(c));
      }
      const legacy = r.changes.find((c) => c.path === legacyUnitPath(r.profile.name) && c.action === 'removed');
      if (legacy && !opts.dryRun) process.stderr.write(`laplink: laplink-${r.profile.name}.service is replaced by laplink@${r.profile.name}.service: systemctl disable --now laplink-${r.profile.name}.service; systemctl daemon-reload; systemctl enable --now laplink@${r.profile.name}\n`);
      const inittab = r.changes.find((c) => c.path.endsWith('.inittab'));
      if (inittab?.after) {
        const line = inittab.after.split('\n').find((l) => /^\w+:2345:respawn:/.test(l));
        if (line) process.stdout.write(`inittab line: ${line}\n`);
      }
    });
}
