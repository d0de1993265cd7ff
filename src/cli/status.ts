import { Option, type Command } from 'commander';
import { LaplinkError, UsageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { DEFAULT_STATE_DIR } from '../pppd/defaults.js';
import { isStale, statusTable } from '../status/table.js';
import { LINK_NAME_PATTERN } from '../profile/schema.js';
import { printableDeep } from '../status/printable.js';
import { describeLine, describeQueue, readLineHealth, readQueueView, type LineHealth, type QueueView } from '../status/line-health.js';
import { readStateDir, readStateFile, unreadableOf, type LinkStatus, type UnreadableState } from '../pppd/state.js';
import { callerLines } from '../callers/status-lines.js';
import { tlsClientFrom, withTlsClientFlags } from './tls-client-flags.js';

/** Exit status when a link shown needs a person: failed, paused (respawning too fast) or stale (its
 *  supervisor died). Like `systemctl is-failed`, a script can test the links without parsing. */
export const EXIT_LINK_NEEDS_ATTENTION = EXIT.FAILED;
/** No state file for the link named. */
export const EXIT_UNKNOWN_LINK = EXIT.NO_SUCH_LINK;

export function needsAttention(s: LinkStatus): boolean {
  return s.state === 'failed' || s.state === 'paused' || isStale(s);
}

/** The link's line counters and queue, read only while pppd holds the line (status never opens an idle one). */
async function linkHealth(s: LinkStatus): Promise<{ line?: LineHealth; queue?: QueueView }> {
  const stale = isStale(s);
  return { line: readLineHealth(s, stale), queue: await readQueueView(s, stale) };
}

async function readOne(stateDir: string, name: string): Promise<{ links: LinkStatus[]; unreadable: UnreadableState[] }> {
  try {
    const s = await readStateFile(stateDir, name);
    return { links: s ? [s] : [], unreadable: [] };
  } catch (err) {
    return { links: [], unreadable: [unreadableOf(stateDir, name, err)] };
  }
}

export function register(program: Command): void {
  const cmd = program
    .command('status')
    .description('show each supervised link: state, since, addresses, interface, last pppd exit and restarts; exit 1 when a link shown is failed, paused or stale or its state file is unreadable, 3 when NAME has no state')
    .argument('[name]', 'one link (default: all in the state directory)')
    .option('--json', 'print the state as JSON')
    .option('--state-dir <dir>', 'state file directory', DEFAULT_STATE_DIR)
    .option('--watch', 'keep watching: redraw on every change, with byte counts, rates and retry countdowns (q quits)')
    .option('--control <HOST:PORT>', 'with --watch: also show the ports of the `bridge run` with this control port (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--no-color', 'with --watch: no colours (also when NO_COLOR is set)');
  // control ports on a network are TLS: the same client flags as `bridge connect`, for every --control
  withTlsClientFlags(cmd, 'control-tls')
    .addOption(new Option('--sysfs-net <dir>', 'interface counters root (tests)').default(undefined).hideHelp())
    .action(async (name: string | undefined, opts: { json?: boolean; stateDir: string; watch?: boolean; control: string[]; color: boolean; sysfsNet?: string } & Record<string, unknown>) => {
      if (opts.watch) {
        process.exitCode = await (await import('./status-watch.js')).runWatch(name, opts);
        return;
      }
      if (opts.control.length > 0) throw new UsageError('status: --control needs --watch (bridge ports are shown in the live view)');
      if (tlsClientFrom(opts, 'control-tls')) throw new UsageError('status: --control-tls-* flags need --watch and --control');
      if (name !== undefined && !LINK_NAME_PATTERN.test(name)) throw new UsageError(`status: "${name}" is not a link name (allowed: 1-32 of a-z 0-9 _ -, starting with a letter or digit)`);
      const { links, unreadable } = name ? await readOne(opts.stateDir, name) : await readStateDir(opts.stateDir);
      if (name && links.length === 0 && unreadable.length === 0) throw new LaplinkError(`status: no link ${name} in ${opts.stateDir} (no ${name}.json; is \`laplink serve\` running?)`, EXIT_UNKNOWN_LINK);
      const health = await Promise.all(links.map((s) => linkHealth(s)));
      if (opts.json) {
        // an unreadable state file is listed with its reason in place of a state, never left out
        const all = [...links.map((s, i) => ({ ...s, stale: isStale(s), ...health[i] })), ...unreadable.map((u) => ({ name: u.name, file: u.file, unreadable: u.reason }))];
        process.stdout.write(`${JSON.stringify(name ? all[0] : all, null, 2)}\n`);
      } else if (links.length === 0 && unreadable.length === 0) {
        process.stdout.write(`no links in ${opts.stateDir}\n`);
      } else {
        const notes = new Map(links.map((s, i) => [s.name, [health[i]!.line && describeLine(health[i]!.line!), health[i]!.queue && describeQueue(health[i]!.queue!)].filter((n): n is string => !!n)]));
        process.stdout.write(statusTable(printableDeep(links), Date.now(), printableDeep(unreadable), notes));
        for (const line of links.flatMap(callerLines)) process.stdout.write(`${line}\n`);
      }
      if (links.some(needsAttention) || unreadable.length > 0) process.exitCode = EXIT_LINK_NEEDS_ATTENTION;
    });
}
