import { readFileSync, readdirSync } from 'node:fs';

/**
 * Process accounting read straight from /proc, so a bridge is measured from outside without
 * instrumenting it. Trees matter: socat forks one child per client, and `node bin/laplink.js` may too.
 */

const CLOCK_TICKS = 100; // USER_HZ on Linux; /proc/PID/stat times are in these ticks

interface StatFields {
  ppid: number;
  ticks: number; // utime + stime
  childTicks: number; // cutime + cstime: children that already exited and were reaped
}

function readStat(pid: number): StatFields | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm (field 2) may contain spaces and parentheses: split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); field N is rest[N - 3].
  const num = (field: number): number => Number(rest[field - 3]);
  return { ppid: num(4), ticks: num(14) + num(15), childTicks: num(16) + num(17) };
}

/** The pid itself and every live descendant. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const stat = readStat(pid);
    if (!stat) continue;
    const list = children.get(stat.ppid) ?? [];
    list.push(pid);
    children.set(stat.ppid, list);
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    if (readStat(pid) === undefined) continue;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

/**
 * CPU nanoseconds one live process has run, summed over its threads from /proc/PID/task/TID/schedstat
 * (first field: the scheduler's sum_exec_runtime, in ns). /proc/PID/stat counts in 10 ms ticks,
 * which moved CPU-per-MiB ratios in steps of 1.25 ms/MiB; Node has no wait4() for a child's
 * rusage, and schedstat can be read while the process runs, which is when the bench samples.
 * Threads that already exited are missing here (the bridges' threads live as long as they do);
 * undefined when schedstat is unavailable, so the caller can fall back to ticks.
 */
function runtimeNs(pid: number): number | undefined {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return undefined;
  }
  let ns = 0;
  for (const tid of tids) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended between the listing and the read: its time is lost either way
    }
  }
  return ns;
}

/** CPU seconds used so far by the roots and their trees (ns resolution), plus reaped children (ticks). */
export function cpuSeconds(roots: readonly number[]): number {
  let seconds = 0;
  for (const root of roots) {
    for (const pid of processTree(root)) {
      const stat = readStat(pid);
      if (!stat) continue;
      const ns = runtimeNs(pid);
      seconds += ns !== undefined ? ns / 1e9 : stat.ticks / CLOCK_TICKS;
      // children already reaped exist only as ticks in their parent's cutime/cstime
      if (pid === root) seconds += stat.childTicks / CLOCK_TICKS;
    }
  }
  return seconds;
}

function statusKiB(pid: number, key: 'VmRSS' | 'VmHWM'): number {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return 0;
  }
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/** Summed current resident set of the trees, bytes. */
export function rssBytes(roots: readonly number[]): number {
  let kib = 0;
  for (const root of roots) for (const pid of processTree(root)) kib += statusKiB(pid, 'VmRSS');
  return kib * 1024;
}

/** Summed peak resident set (VmHWM) of the live processes in the trees, bytes. */
export function peakRssBytes(roots: readonly number[]): number {
  let kib = 0;
  for (const root of roots) for (const pid of processTree(root)) kib += statusKiB(pid, 'VmHWM');
  return kib * 1024;
}

/** Number of open file descriptors of one process. */
export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** True when some socket on 127.0.0.1/0.0.0.0 is in LISTEN state on this TCP port. */
export function isListening(port: number): boolean {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 3 && cols[1]!.endsWith(`:${hexPort}`) && cols[3] === '0A') return true;
    }
  }
  return false;
}
