import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { LaplinkError } from '../errors.js';
import { modulesFor } from './commands.js';
import { packageRoot } from '../paths.js';

/** The version npm installed (package.json), not a copy of it that a release could forget to bump. */
function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** Prints a typed error as one line and returns its exit status; unknown errors are bugs. */
export function reportError(err: unknown): number {
  if (err instanceof LaplinkError) {
    // every problem of a profile on its own prefixed line, so each reads (and greps) alone
    for (const line of err.message.split('\n')) process.stderr.write(`laplink: ${line}\n`);
    return err.exitCode;
  }
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  process.stderr.write(`laplink: internal error: ${text}\n`);
  if (process.env.LAPLINK_DEBUG) console.error(err);
  return 70;
}

export async function main(argv: string[]): Promise<void> {
  // `laplink generate --dry-run | head` closes our stdout early: that is the reader's choice, not an
  // error worth a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
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
