import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';
import { writeStateFile } from '../../src/pppd/state.js';
import { cpuSeconds, processTree } from '../../test/helpers/proc.js';
import type { BenchSuite } from '../lib/suite.js';
import { sleep } from '../../src/runtime/sleep.js';

/**
 * `npm run bench -- watch`: what an idle `laplink status --watch` costs. One link, up, on an interface
 * whose counters stand still (a fake sysfs directory: the real ones on this shared machine always
 * move). Per window: CPU ticks (/proc utime+stime, 10 ms each; target 0 once settled), CPU time
 * from schedstat, and context switches of every thread (each wake-up is at least one). The anchor
 * is the polling way, `watch -n 1 laplink status` (procps), which re-runs the command every second
 * whether or not anything changed.
 */

/** V8's memory reducer runs up to three full collections 8 s apart once a process falls idle after
 *  start-up (measured with strace here: main-thread wake-ups at +7, +8, +16 and +24 s, none after):
 *  that is the runtime settling, not the watcher polling, so the idle window starts after it. */
const SETTLED_AT_S = 30;
const laplinkBin = () => join(packageRoot(), 'bin/laplink.js');
const ptyRun = () => join(packageRoot(), 'test/helpers/pty-run.py');

function statTicks(stat: string): number {
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]); // utime stime cutime cstime
}

export async function ticks(pids: number[]): Promise<number> {
  let n = 0;
  for (const pid of pids) n += statTicks(await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => ''.padEnd(60, ') 0')));
  return n;
}

export async function contextSwitches(pids: number[]): Promise<number> {
  let n = 0;
  for (const pid of pids) {
    for (const tid of await readdir(`/proc/${pid}/task`).catch(() => [] as string[])) {
      const status = await readFile(`/proc/${pid}/task/${tid}/status`, 'utf8').catch(() => '');
      for (const m of status.matchAll(/^(?:non)?voluntary_ctxt_switches:\s+(\d+)$/gm)) n += Number(m[1]);
    }
  }
  return n;
}

interface Measured {
  ticks: number;
  cpuMs: number;
  switches: number;
}

/** Starts `command` (optionally on a pty), waits until its output shows `ready` (the first draw),
 *  then measures it and its descendants over `seconds` at once and, when `settledAt` is given,
 *  again over `seconds` from `settledAt` s after the first draw. */
async function idleCost(command: string[], onPty: boolean, ready: string, seconds: number, settledAt: number | undefined, signal: AbortSignal): Promise<Measured[]> {
  const child: ChildProcess = onPty
    ? spawn('python3', [ptyRun(), '120', '30', ...command], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, TERM: 'xterm-256color' } })
    : spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let out = '';
    let err = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (c: Buffer) => {
        out += c.toString('latin1');
        if (out.includes(ready)) resolve();
      });
      child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
      child.once('exit', (code) => reject(new Error(`${command.join(' ')} exited ${code} before drawing: ${err}`)));
      signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
    });
    const drawnAt = Date.now();
    // under the pty, measure the command, not the relay (python3 wakes for every byte it relays)
    const root = onPty ? Number(/^pid (\d+)$/m.exec(err)![1]) : child.pid!;
    const window = async (): Promise<Measured> => {
      const pids = processTree(root);
      const before = { ticks: await ticks(pids), cpu: cpuSeconds([root]), switches: await contextSwitches(pids) };
      await sleep(seconds * 1000);
      const after = { ticks: await ticks(pids), cpu: cpuSeconds([root]), switches: await contextSwitches(processTree(root)) };
      return { ticks: after.ticks - before.ticks, cpuMs: (after.cpu - before.cpu) * 1000, switches: after.switches - before.switches };
    };
    const results = [await window()];
    if (settledAt !== undefined) {
      await sleep(Math.max(0, settledAt * 1000 - (Date.now() - drawnAt)));
      results.push(await window());
    }
    return results;
  } finally {
    child.kill('SIGTERM');
    if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));
  }
}

const suite: BenchSuite = {
  name: 'watch',
  async run({ quick, signal }) {
    const dir = await mkdtemp(join(tmpdir(), 'laplink-bench-watch-'));
    try {
      const stateDir = join(dir, 'state');
      const sysfs = join(dir, 'sys');
      await mkdir(join(sysfs, 'ppp0', 'statistics'), { recursive: true });
      await writeFile(join(sysfs, 'ppp0', 'statistics', 'rx_bytes'), '123456\n');
      await writeFile(join(sysfs, 'ppp0', 'statistics', 'tx_bytes'), '654321\n');
      // the link's "supervisor" is this bench process, so the link is not stale
      await writeStateFile(stateDir, { name: 'idle', state: 'up', since: new Date().toISOString(), upSince: new Date().toISOString(), supervisorPid: process.pid, iface: 'ppp0', localIp: '192.168.7.1', remoteIp: '192.168.7.2', restarts: 0 });
      const seconds = quick ? 3 : 10;
      const watchArgs = [process.execPath, laplinkBin(), 'status', '--watch', '--state-dir', stateDir, '--sysfs-net', sysfs];
      const terminal = await idleCost(watchArgs, true, '1 link: 1 up', seconds, SETTLED_AT_S, signal);
      const pipe = await idleCost(watchArgs, false, 'idle', seconds, SETTLED_AT_S, signal);
      const [anchor] = await idleCost(['watch', '-n', '1', `${process.execPath} ${laplinkBin()} status --state-dir ${stateDir}`], true, 'idle', seconds, undefined, signal);
      const row = (name: string, m: Measured) => `| ${name} | ${m.ticks} | ${m.cpuMs.toFixed(1)} | ${m.switches} |`;
      return [
        `One idle link (up, counters still). Windows of ${seconds} s: right after the first draw, and from ${SETTLED_AT_S} s after it (start-up settled).`,
        '',
        '| viewer, window | CPU ticks (utime+stime, 10 ms) | CPU ms (schedstat) | context switches (all threads) |',
        '|---|---|---|---|',
        row('laplink status --watch, terminal, after first draw', terminal[0]!),
        row(`laplink status --watch, terminal, from +${SETTLED_AT_S} s`, terminal[1]!),
        row('laplink status --watch, pipe, after first draw', pipe[0]!),
        row(`laplink status --watch, pipe, from +${SETTLED_AT_S} s`, pipe[1]!),
        row('anchor: watch -n 1 laplink status (procps, polls), after first draw', anchor!),
        '',
        `goal: 0 ticks over ${seconds} s once settled → ${terminal[1]!.ticks === 0 && pipe[1]!.ticks === 0 ? 'met' : 'NOT met'}`,
      ].join('\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};

export default suite;
