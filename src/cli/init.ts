import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { UsageError } from '../errors.js';
import { starterProfile } from '../profile/starter.js';
import { errnoText } from '../socket-reason.js';

export function register(program: Command): void {
  program
    .command('init')
    .description('write a commented starter profile')
    .addOption(new Option('--role <role>', 'server waits for the call, client makes it').choices(['server', 'client']).makeOptionMandatory())
    .addOption(new Option('--peer <peer>', 'the machine at the other end').choices(['linux', 'windows', 'dialup']).default('linux'))
    .option('--output <file>', 'write here instead of standard output')
    .option('--force', 'overwrite an existing --output file')
    .action(async (opts: { role: 'server' | 'client'; peer: 'linux' | 'windows' | 'dialup'; output?: string; force?: boolean }) => {
      if (opts.peer === 'dialup' && opts.role !== 'server') throw new UsageError('--peer dialup: the peer dials this machine, so it answers as the server (allowed: --role server)');
      const text = starterProfile({ role: opts.role, peer: opts.peer });
      if (!opts.output) {
        process.stdout.write(text);
        process.stderr.write(nextSteps(text)); // stdout is the profile itself: advice goes to stderr
        return;
      }
      try {
        await writeFile(opts.output, text, { flag: opts.force ? 'w' : 'wx', mode: 0o600 });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new UsageError(`${opts.output} exists; not overwriting it without --force`);
        throw new UsageError(`cannot write ${opts.output}: ${errnoText(err)}`);
      }
      process.stdout.write(`created   ${opts.output}\n`);
      process.stderr.write(nextSteps(text, resolve(opts.output)));
    });
}

/**
 * What to do with the profile: on stdout it still has to be saved (as /etc/laplink/NAME.yaml, by
 * convention); written with --output it is where the user put it, and generate records that path for
 * the unit laplink@NAME (its drop-in), so it stays there.
 */
function nextSteps(profile: string, written?: string): string {
  const name = /^name: *(\S+)/m.exec(profile)?.[1] ?? 'NAME';
  const path = written ?? `/etc/laplink/${name}.yaml`;
  const first = written ? `next: edit ${written}, then run as root` : `next: edit it, save it as ${path} (the unit laplink@${name} reads it), then run as root`;
  return `${first}\n  laplink generate ${path}\n  systemctl enable --now laplink@${name}\n`;
}
