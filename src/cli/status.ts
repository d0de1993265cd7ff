import type { Command } from 'commander';
import { LaplinkError } from '../errors.js';
import { DEFAULT_STATE_DIR } from '../pppd/defaults.js';
import { isStale, statusTable } from '../pppd/report.js';
import { readAllStateFiles, readStateFile } from '../pppd/state.js';

export function register(program: Command): void {
  program
    .command('status')
    .description('show each supervised link: state, since, addresses, interface, last pppd exit and restarts')
    .argument('[name]', 'one link (default: all in the state directory)')
    .option('--json', 'print the state as JSON')
    .option('--state-dir <dir>', 'state file directory', DEFAULT_STATE_DIR)
    .action(async (name: string | undefined, opts: { json?: boolean; stateDir: string }) => {
      const links = name ? [await readStateFile(opts.stateDir, name)].filter((s) => s !== undefined) : await readAllStateFiles(opts.stateDir);
      if (name && links.length === 0) throw new LaplinkError(`no state for link ${name} in ${opts.stateDir} (is \`laplink serve\` running?)`, 3);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(name ? { ...links[0], stale: isStale(links[0]!) } : links.map((s) => ({ ...s, stale: isStale(s) })), null, 2)}\n`);
        return;
      }
      if (links.length === 0) {
        process.stdout.write(`no links in ${opts.stateDir}\n`);
        return;
      }
      process.stdout.write(statusTable(links));
    });
}
