import { Option, type Command } from 'commander';
import { LaplinkError, UsageError } from '../errors.js';
import { DEFAULT_STATE_DIR } from '../pppd/defaults.js';
import { isStale, statusTable } from '../pppd/report.js';
import { callerLines } from '../callers/status-lines.js';
import { readAllStateFiles, readStateFile, type LinkStatus } from '../pppd/state.js';

/** Exit status when a link shown needs a person: failed, paused (respawning too fast) or stale (its
 *  supervisor died). Like `systemctl is-failed`, a script can test the links without parsing. */
export const EXIT_LINK_NEEDS_ATTENTION = 1;
/** No state file for the link named. */
export const EXIT_UNKNOWN_LINK = 3;

export function needsAttention(s: LinkStatus): boolean {
  return s.state === 'failed' || s.state === 'paused' || isStale(s);
}

export function register(program: Command): void {
  program
    .command('status')
    .description('show each supervised link: state, since, addresses, interface, last pppd exit and restarts; exit 1 when a link shown is failed, paused or stale, 3 when NAME has no state')
    .argument('[name]', 'one link (default: all in the state directory)')
    .option('--json', 'print the state as JSON')
    .option('--state-dir <dir>', 'state file directory', DEFAULT_STATE_DIR)
    .option('--watch', 'keep watching: redraw on every change, with byte counts, rates and retry countdowns (q quits)')
    .option('--control <HOST:PORT>', 'with --watch: also show the ports of the `bridge run` with this control port (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--no-color', 'with --watch: no colours (also when NO_COLOR is set)')
    .addOption(new Option('--sysfs-net <dir>', 'interface counters root (tests)').default(undefined).hideHelp())
    .action(async (name: string | undefined, opts: { json?: boolean; stateDir: string; watch?: boolean; control: string[]; color: boolean; sysfsNet?: string }) => {
      if (opts.watch) {
        process.exitCode = await (await import('./status-watch.js')).runWatch(name, opts);
        return;
      }
      if (opts.control.length > 0) throw new UsageError('status: --control needs --watch (bridge ports are shown in the live view)');
      const links = name ? [await readStateFile(opts.stateDir, name)].filter((s) => s !== undefined) : await readAllStateFiles(opts.stateDir);
      if (name && links.length === 0) throw new LaplinkError(`status: no link ${name} in ${opts.stateDir} (no ${name}.json; is \`laplink serve\` running?)`, EXIT_UNKNOWN_LINK);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(name ? { ...links[0], stale: isStale(links[0]!) } : links.map((s) => ({ ...s, stale: isStale(s) })), null, 2)}\n`);
      } else if (links.length === 0) {
        process.stdout.write(`no links in ${opts.stateDir}\n`);
      } else {
        process.stdout.write(statusTable(links));
        for (const line of links.flatMap(callerLines)) process.stdout.write(`${line}\n`);
      }
      if (links.some(needsAttention)) process.exitCode = EXIT_LINK_NEEDS_ATTENTION;
    });
}
