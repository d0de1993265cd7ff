import { writeFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { UsageError } from '../errors.js';
import { starterProfile } from '../profile/starter.js';

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
        throw new UsageError(`cannot write ${opts.output}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
      process.stdout.write(`created   ${opts.output}\n`);
      process.stderr.write(nextSteps(text));
    });
}

/** Where the profile goes and which unit runs it (templates/systemd/laplink@.service). */
function nextSteps(profile: string): string {
  const name = /^name: *(\S+)/m.exec(profile)?.[1] ?? 'NAME';
  const path = `/etc/laplink/${name}.yaml`;
  return `next: edit it, save it as ${path} (the unit laplink@${name} reads it), then run as root\n  laplink generate ${path}\n  systemctl enable --now laplink@${name}\n`;
}
