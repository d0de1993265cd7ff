/**
 * Helpers for supervisor tests. The pppd they run is test/helpers/fake-pppd.mjs, a STAND-IN: this
 * machine's kernel has no PPP, so the real pppd exits 4 before it could negotiate anything.
 */
import { execa, type ResultPromise } from 'execa';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pppdArgs } from '../../src/pppd/args.js';
import { Supervisor, type SupervisorOptions } from '../../src/pppd/supervise.js';
import type { LinkState, LinkStatus } from '../../src/pppd/state.js';

export const fakePppd = fileURLToPath(new URL('./fake-pppd.mjs', import.meta.url));
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const laplinkBin = join(repoRoot, 'bin', 'laplink.js');

export async function tempDir(prefix = 'laplink-sup-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** A Supervisor running the stand-in; `fake` sets FAKE_PPPD_* variables. */
export function standInSupervisor(dir: string, fake: Record<string, string>, over: Partial<SupervisorOptions> = {}): Supervisor {
  const name = over.name ?? 'testlink';
  return new Supervisor({
    name,
    args: pppdArgs({ name, root: dir }),
    pppd: fakePppd,
    stateDir: join(dir, 'state'),
    lockDir: join(dir, 'lock'),
    runDir: join(dir, 'run'),
    graceMs: 2000,
    backoff: { initialMs: 40, maxMs: 200, jitter: 0 },
    env: { FAKE_PPPD_STATE: join(dir, 'starts'), ...fake },
    ...over,
  });
}

/** Start lines the stand-in appended: one per pppd start, "pid time argv…". */
export async function starts(dir: string, file = join(dir, 'starts')): Promise<Array<{ pid: number; at: number }>> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [pid, at] = l.split(' ');
      return { pid: Number(pid), at: Number(at) };
    });
}

/**
 * Ends a `laplink` a test started, also when the test failed half-way (a process stuck in its stop,
 * or one whose test never got to stop it): SIGTERM first, so it ends its pppd as it would under
 * systemd, SIGKILL after 5 s; then every stand-in pppd named in `startsFile` (FAKE_PPPD_STATE) that
 * still runs, by pid (a laplink killed with -9 leaves its pppd re-parented to init).
 */
export async function endWithStandIns(p: { exitCode?: number | null; signalCode?: string | null; kill(signal: NodeJS.Signals): unknown } & PromiseLike<unknown>, startsFile?: string): Promise<void> {
  if (p.exitCode == null && p.signalCode == null) {
    p.kill('SIGTERM');
    const ended = await Promise.race([Promise.resolve(p).then(() => true, () => true), new Promise<false>((r) => setTimeout(() => r(false), 5000))]);
    if (!ended) p.kill('SIGKILL');
  }
  await Promise.resolve(p).catch(() => undefined);
  for (const { pid } of startsFile ? await starts('', startsFile) : []) {
    // only a pid that is still our stand-in: never a recycled one
    const argv = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (argv.includes('fake-pppd')) process.kill(pid, 'SIGKILL');
  }
}

/** Resolves with the first status in `state` (or matching `pred`), rejects after `ms`. */
export function waitForState(sup: Supervisor, state: LinkState | ((s: LinkStatus) => boolean), ms = 15_000): Promise<LinkStatus> {
  const pred = typeof state === 'function' ? state : (s: LinkStatus) => s.state === state;
  if (pred(sup.status)) return Promise.resolve(structuredClone(sup.status));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sup.off('state', on);
      reject(new Error(`timed out waiting for state ${typeof state === 'string' ? state : 'predicate'}; now ${sup.status.state}`));
    }, ms);
    const on = (s: LinkStatus) => {
      if (pred(s)) {
        clearTimeout(timer);
        sup.off('state', on);
        resolve(s);
      }
    };
    sup.on('state', on);
  });
}

/** Whether a pid still exists (and is not a zombie) per /proc. */
export async function procAlive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!stat) return false;
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z';
}

/** Children of a pid from /proc/PID/task/PID/children. */
export async function procChildren(pid: number): Promise<number[]> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  return text.split(/\s+/).filter(Boolean).map(Number);
}

export const profileYaml = (name: string, extra = '') => `name: ${name}
role: server
device: /dev/ttyS0
localIp: 192.168.7.1
remoteIp: 192.168.7.2
auth:
  require: pap
  users:
    - name: labuser
      password: Sup3rSecretPW
systemd: false
${extra}`;

/**
 * What a CLI test started, ended after each test: `children` (TERM, then awaited) and `strayPids`
 * (pppds left behind on purpose, KILLed by pid). Push onto them; call `reap()` in afterEach.
 */
export function processReaper(): { children: Array<{ kill(signal: NodeJS.Signals): unknown } & PromiseLike<unknown>>; strayPids: number[]; reap(): Promise<void> } {
  const children: Array<{ kill(signal: NodeJS.Signals): unknown } & PromiseLike<unknown>> = [];
  const strayPids: number[] = [];
  return {
    children,
    strayPids,
    async reap() {
      for (const c of children.splice(0)) {
        c.kill('SIGTERM');
        await Promise.resolve(c).catch(() => undefined);
      }
      for (const pid of strayPids.splice(0)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    },
  };
}

/**
 * `laplink serve PROFILE` with the stand-in pppd holding the link up (its starts recorded in
 * DIR/starts), every directory under `dir` but the state directory given; stdout and stderr
 * collected in one text, in the order they came. The caller ends it (endWithStandIns, a reaper).
 */
export function serveWithStandIn(dir: string, profile: string, stateDir = join(dir, 'state')): { serve: ResultPromise; output: () => string } {
  let output = '';
  const serve = execa(process.execPath, [laplinkBin, 'serve', profile, '--root', join(dir, 'root'), '--state-dir', stateDir, '--lock-dir', join(dir, 'lock'), '--run-dir', join(dir, 'run'), '--pppd', fakePppd], {
    env: { FAKE_PPPD_STATE: join(dir, 'starts'), FAKE_PPPD_SCENARIO: 'up-hold' },
    reject: false,
    buffer: false,
    stdin: 'ignore',
  });
  serve.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  serve.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  return { serve, output: () => output };
}
