/**
 * `laplink remove` of a link that is up: its ip-down.d hook is one of the files going, so the link
 * would later go down with nobody to take the queue off its interface, and the IFB device that
 * shapes arrivals would outlive the link. Before the files go, the hook is run once for the live
 * interface, as pppd's ip-down would have run it.
 */
import { execa } from 'execa';
import { lstat } from 'node:fs/promises';
import { pidAlive } from '../pid.js';
import { cmdline, isPppdFor, readPppdPidFile, type Unreadable } from './orphan.js';

/** What pppd's `linkname` pid file says of a running link: pid on line 1, interface on line 2. */
export interface LiveLink {
  pid: number;
  iface: string;
}

/** An interface name as the kernel allows it (IFNAMSIZ 16 with its NUL), and nothing a shell or `tc` reads as an option. */
const IFACE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/;

/** The running pppd of this link and its interface, from RUNDIR/ppp-NAME.pid; undefined when it is not up. */
export async function findLiveLink(name: string, runDir: string, warn?: Unreadable): Promise<LiveLink | undefined> {
  const file = await readPppdPidFile(runDir, name, warn);
  if (!file?.iface || !IFACE.test(file.iface) || !pidAlive(file.pid)) return undefined;
  const { pid, iface } = file;
  // a recycled pid is never taken for our pppd
  const argv = await cmdline(pid);
  return argv && isPppdFor(argv, name) ? { pid, iface } : undefined;
}

/**
 * Runs the link's generated ip-down hook (hookFile) for its live interface, with the arguments and
 * environment pppd gives it. Returns a line for the user, or undefined when there was nothing to do
 * (link not up, or no hook: `queue: off`). A pid file that is not one is said through `warn`.
 */
export async function releaseQueue(name: string, hookFile: string, runDir: string, dryRun = false, warn?: Unreadable): Promise<string | undefined> {
  const live = await findLiveLink(name, runDir, warn);
  if (!live) return undefined;
  const hook = await lstat(hookFile).catch(() => undefined);
  if (!hook?.isFile()) return undefined;
  if (dryRun) return `the link is up on ${live.iface} (pppd ${live.pid}): queue management would be taken off it before its ip-down hook is removed`;
  const r = await execa(hookFile, [live.iface], {
    reject: false,
    stdin: 'ignore',
    env: { LINKNAME: name, PPP_IFACE: live.iface, PPPD_PID: String(live.pid) },
    timeout: 30_000,
  });
  if (r.exitCode !== 0) return `the link is up on ${live.iface}: its ip-down hook failed (${r.exitCode ?? r.signal}): ${String(r.stderr).split('\n')[0]}`;
  return `the link is up on ${live.iface} (pppd ${live.pid}): queue management taken off it before its ip-down hook is removed`;
}
