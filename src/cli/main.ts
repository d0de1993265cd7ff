import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { describeFailure } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { modulesFor } from './commands.js';
import { packageRoot } from '../paths.js';

/** The version npm installed (package.json), not a copy of it that a release could forget to bump. */
function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** Prints a failure (errors.ts describeFailure) and returns its exit status; commander has already
 *  said what was wrong with the command line. */
export function reportError(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === EXIT.OK ? EXIT.OK : EXIT.USAGE;
  const { text, exitCode } = describeFailure(err, 'laplink');
  process.stderr.write(text);
  return exitCode;
}

export async function main(argv: string[]): Promise<void> {
  // `laplink generate --dry-run | head` closes our stdout early: that is the reader's choice, not an
  // error worth a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? EXIT.OK);
    throw err;
  });
  const program = new Command('laplink')
    .description('Two machines and a null-modem cable into a working PPP link.')
    .version(packageVersion())
    .exitOverride()
    // one line per problem, as `laplink: …` like every other error (no usage dump after it)
    .configureOutput({ outputError: (text, write) => write(`laplink: ${text.replace(/^error: /, '')}`) });
  for (const load of modulesFor(argv.slice(2))) (await load()).register(program);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    process.exitCode = reportError(err);
  }
}
