import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { loadProfile, type LoadedProfile } from '../profile/load.js';
import { DEFAULT_RUN_DIR } from '../pppd/defaults.js';
import { releaseQueue } from '../pppd/release-queue.js';
import { changeDiff, removeLink } from '../render/generate.js';
import { describeRecovery } from '../render/journal.js';
import { ipDownPath } from '../render/render.js';
import { generatedLinks } from '../render/shared-units.js';
import { underRoot } from '../render/write.js';

interface RemoveOptions {
  root?: string;
  dryRun?: boolean;
  all?: boolean;
}

export function register(program: Command): void {
  program
    .command('remove')
    .description("delete the link's generated files and managed blocks (the shared units with the last link); everything else stays")
    .argument('[profile]', 'link profile (YAML)')
    .option('--all', 'every link generate wrote (found by its unit drop-in), then the shared units: uninstall')
    .option('--root <dir>', 'work under this directory instead of /')
    .option('--dry-run', 'print a unified diff of what would change; write nothing')
    .action(async (profile: string | undefined, opts: RemoveOptions) => {
      if (opts.all && profile !== undefined) throw new UsageError('give a profile or --all, not both');
      if (!opts.all && profile === undefined) throw new UsageError("missing argument 'profile' (or --all for every link)");
      if (!opts.all) return removeOne(profile!, opts);
      const links = await generatedLinks(opts.root);
      if (links.length === 0) {
        process.stdout.write(`nothing to remove: no link generated under ${underRoot(opts.root, '/')}\n`);
        return;
      }
      // every profile first: a link whose profile is gone cannot say which files are its own
      const loaded: LoadedProfile[] = [];
      for (const l of links) {
        if (!l.profilePath) throw new UsageError(`link ${l.name}: ${l.unreadable}; nothing was removed (generate it again, or laplink remove the others one by one)`);
        loaded.push(
          await loadProfile(l.profilePath).catch((err: Error) => {
            throw new UsageError(`link ${l.name}: ${err.message.split('\n')[0]}; nothing was removed (restore its profile, or laplink remove the others one by one)`);
          }),
        );
      }
      // one link at a time, each all-or-nothing; the last one takes the shared units along (in a dry
      // run the others are still there, so it is told they are going too)
      const names = links.map((l) => l.name);
      for (const [i, l] of loaded.entries()) await removeOne(l, opts, i === links.length - 1 ? names.filter((n) => n !== l.profile.name) : []);
    });
}

async function removeOne(source: string | LoadedProfile, opts: RemoveOptions, alsoRemoving: string[] = []): Promise<void> {
  const loaded = typeof source === 'string' ? await loadProfile(source) : source;
  const name = loaded.profile.name;
  // a link that is up would go down later with its ip-down hook gone, leaving its queue and IFB behind
  const released = await releaseQueue(name, underRoot(opts.root, ipDownPath(name)), underRoot(opts.root, DEFAULT_RUN_DIR), opts.dryRun, (line) => process.stderr.write(`laplink: ${line}\n`));
  if (released) process.stdout.write(`${released}\n`);
  const r = await removeLink(loaded, { root: opts.root, dryRun: opts.dryRun, alsoRemoving });
  const recovered = r.recovery && describeRecovery(r.recovery);
  if (recovered) process.stderr.write(`laplink: ${recovered}\n`);
  for (const c of r.changes) {
    // The same words and layout as generate --dry-run.
    const verb = opts.dryRun && (c.action === 'removed' || c.action === 'updated') ? `would be ${c.action}` : c.action;
    process.stdout.write(`${verb.padEnd(opts.dryRun ? 16 : 9)} ${c.fsPath}${c.note ? ` (${c.note})` : ''}\n`);
    if (opts.dryRun) process.stdout.write(changeDiff(c));
  }
}
