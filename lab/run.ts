import { execa, type ResultPromise } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { laplinkArgv } from '../src/paths.js';
import { LabError } from './lab-error.js';
import { Guest } from './guest.js';
import { ensureInitramfs } from './initramfs.js';
import { ensureKernel, type GuestKernel } from './kernel.js';
import type { HostService, Scenario } from './scenario-kit.js';

export interface LabImages { kernel: GuestKernel; initrd: string }

export interface ScenarioResult {
  id: string;
  title: string;
  ok: boolean;
  seconds: number;
  /** The first missing marker or the error, when not ok. */
  problem?: string;
  consoleA: string;
  consoleB: string;
  /** Guest C's console, when the scenario has a third guest. */
  consoleC?: string;
  runsOn: string;
}

/**
 * Keys for a TLS join, made by the product (`laplink bridge keygen`) in DIR/tls, which the guests
 * see (their root is this host's, read-only, under an overlay): the host's and the client's
 * certificates, and DIR/tls/host.pin with the host's fingerprint for the guest to pin. Returns the
 * host bridge's flags: its certificate, and only the client's key let in.
 */
async function joinKeys(dir: string): Promise<string[]> {
  const tlsDir = join(dir, 'tls');
  await mkdir(tlsDir);
  const [node, bin] = laplinkArgv();
  const keygen = async (name: string) => {
    const r = await execa(node!, [bin!, 'bridge', 'keygen', '--dir', tlsDir, name], { reject: false, stdin: 'ignore' });
    const fp = /^fingerprint\s+(sha256:[0-9a-f]{64})$/m.exec(String(r.stdout));
    if (r.exitCode !== 0 || !fp) throw new LabError(`bridge keygen ${name} failed (${r.exitCode}): ${String(r.stderr)}`);
    return fp[1]!;
  };
  const [host, client] = [await keygen('lab-host'), await keygen('lab-client')];
  await writeFile(join(tlsDir, 'host.pin'), `${host}\n`);
  return ['--tls-cert', join(tlsDir, 'lab-host.crt'), '--tls-key', join(tlsDir, 'lab-host.key'), '--tls-allow', client];
}

function laplink(args: string[], realtime = false): ResultPromise {
  const [node, bin] = laplinkArgv();
  // a pacer woken late loses line time (issue 17 measured 3 % at normal priority on a busy host)
  const rt = realtime && process.getuid?.() === 0 && existsSync('/usr/bin/chrt') ? ['/usr/bin/chrt', '-f', '50'] : [];
  const [cmd, ...rest] = [...rt, node!, bin!, ...args];
  return execa(cmd!, rest, { reject: false, stdin: 'ignore', buffer: { stdout: false, stderr: true } });
}

/** The port from the bridge's `listening on HOST:PORT` line (it may have picked port 0). */
async function listeningPort(p: ResultPromise): Promise<number> {
  let text = '';
  return await new Promise<number>((resolve, reject) => {
    const onData = (b: Buffer) => {
      text += b.toString();
      const m = /listening on [^\s]*:(\d+)/.exec(text);
      if (m) { p.stdout?.off('data', onData); resolve(Number(m[1])); }
    };
    p.stdout?.on('data', onData);
    p.then((r) => reject(new LabError(`laplink bridge serve exited ${r.exitCode}: ${String(r.stderr).trim().split('\n')[0]}`)), reject);
  });
}

/** A loopback port free right now (the kernel picks it; we close and hand it on). */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((res) => srv.close(() => res()));
  return port;
}

export async function prepareLab(log?: (line: string) => void): Promise<LabImages> {
  const kernel = await ensureKernel(log ? { log } : {});
  return { kernel, initrd: await ensureInitramfs(kernel) };
}

/** Whole-run ceiling per guest: boot ~4 s, node ~3 s per start, link ~2 s; TCG on a busy host is slower. */
const GUEST_TIMEOUT_MS = 150_000;

/**
 * Run one scenario: two guests, the host join, wait for both to power off (their scripts end
 * themselves), then judge by the markers. Every child is killed by PID and the temp dir removed
 * on every path out.
 */
export async function runScenario(s: Scenario, images: LabImages, opts: { signal?: AbortSignal } = {}): Promise<ScenarioResult> {
  const t0 = Date.now();
  const dir = await mkdtemp(join(tmpdir(), `laplink-lab-${s.id}-`));
  const guests: Guest[] = [];
  const helpers: ResultPromise[] = [];
  // ends host steps still running when the scenario ends, whichever way
  const abortAll = new AbortController();
  const onAbort = () => { abortAll.abort(); for (const g of guests) void g.stop(); for (const h of helpers) h.kill('SIGKILL'); };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  let a: Guest | undefined;
  let b: Guest | undefined;
  let service: HostService | undefined;
  try {
    service = s.hostService ? await s.hostService() : undefined;
    const hostPort = service?.port ?? (s.join === 'tcp' ? await freePort() : 0);
    // guest A's callers listener, reached from this host's loopback (and by guest B's dialing COM port)
    const callersPort = s.a.hostfwdPort ? await freePort() : 0;
    if (s.b.dialsA && !s.a.hostfwdPort) throw new LabError('guest B dials guest A: A needs a hostfwdPort');
    const start = async (plan: Scenario['a']) => {
      const script = join(dir, `${plan.name}.sh`);
      await writeFile(script, plan.script);
      const g = await Guest.start({
        name: plan.name, vmlinux: images.kernel.vmlinux, initrd: images.initrd, script,
        consoleFile: join(dir, `${plan.name}.console`), cable: plan.cable, ...(plan.cable2 ? { cable2: true } : {}), ...(s.guestNice !== undefined ? { nice: s.guestNice } : {}),
        ...(plan.guestfwdPort ? { guestfwd: { port: plan.guestfwdPort, hostPort } } : {}),
        ...(plan.hostfwdPort ? { hostfwd: { guestPort: plan.hostfwdPort, hostPort: callersPort } } : {}),
        ...(plan.dialsA ? { dialTcp: { port: callersPort, lines: plan.dialsA } } : {}),
      });
      guests.push(g);
      return g;
    };
    a = await start(s.a);
    const lockDir = join(dir, 'lock');
    await mkdir(lockDir);
    if (s.join === 'tcp') {
      if (!a.pty) throw new LabError('tcp join needs guest A to have a cable');
      const tls = s.joinTls ? await joinKeys(dir) : [];
      const serve = laplink(['bridge', 'serve', a.pty, '--listen', `127.0.0.1:${hostPort}`, '--lock-dir', lockDir, ...tls]);
      // LAB_DEBUG_JOIN=1: the host bridge's own log (connects, refusals) on this run's stderr
      if (process.env.LAB_DEBUG_JOIN) serve.stderr?.on('data', (d: Buffer) => process.stderr.write(`join: ${d.toString()}`));
      helpers.push(serve);
      await listeningPort(serve);
    }
    b = await start(s.b);
    const c = s.c ? await start(s.c) : undefined;
    /**
     * One host join between two guest ptys (each child is in `helpers` as soon as it starts, so it is
     * killed on every way out): socat, or our bridge serving one end on a loopback port and
     * attaching the other.
     */
    const joinPair = async (ptyA: string, ptyB: string, first?: (port: number) => Promise<void>): Promise<ResultPromise[]> => {
      const started = (p: ResultPromise) => { helpers.push(p); return p; };
      if (s.join === 'socat') return [started(execa('socat', [`${ptyA},raw,echo=0`, `${ptyB},raw,echo=0`], { reject: false, stdin: 'ignore' }))];
      const protocol = s.join === 'bridge' ? 'raw' : s.join.slice('bridge-'.length);
      const pace = s.pace ? ['--pace', String(s.pace)] : [];
      const serve = started(laplink(['bridge', 'serve', ptyA, '--listen', '127.0.0.1:0', '--protocol', protocol, '--lock-dir', lockDir, ...pace], s.paceRealtime));
      const port = await listeningPort(serve);
      await first?.(port);
      return [serve, started(laplink(['bridge', 'connect', `127.0.0.1:${port}`, ptyB, '--protocol', protocol, '--lock-dir', lockDir]))];
    };
    let cable: ResultPromise[] = [];
    const connectJoin = async () => {
      if (s.join === 'tcp') return;
      if (!a?.pty || !b?.pty) throw new LabError('the host join needs both guests to have a cable');
      cable = await joinPair(a.pty, b.pty);
    };
    // guest C on A's second cable; this join is never cut (scenario 11 cuts B's and watches C's stay
    // up). Its host step (beforeJoinC) may take a while, so B's join does not wait for it.
    if (c && (!a.pty2 || !c.pty)) throw new LabError('guest C needs guest A to have a second cable (cable2) and C a cable');
    const joinC = c ? joinPair(a.pty2!, c.pty!, s.beforeJoinC && ((port) => s.beforeJoinC!(port, abortAll.signal))) : undefined;
    // a failed joinC is awaited below; until then it must not be an unhandled rejection
    joinC?.catch(() => undefined);
    await connectJoin();
    await joinC;
    if (s.host) {
      const [ga, gb] = [a, b];
      await s.host({
        waitA: (re, ms) => ga.waitFor(re, ms),
        waitB: (re, ms) => gb.waitFor(re, ms),
        waitC: (re, ms) => { if (!c) throw new LabError('this scenario has no guest C'); return c.waitFor(re, ms); },
        cut: async () => { for (const p of cable) { p.kill('SIGKILL'); await p; } cable = []; },
        reconnect: connectJoin,
      });
    }
    await Promise.all(guests.map((g) => g.waitExit(s.guestTimeoutMs ?? GUEST_TIMEOUT_MS)));
    const [ca, cb, cc] = [await a.console(), await b.console(), c ? await c.console() : undefined];
    const lacking = (who: string, expected: RegExp[] | undefined, text: string | undefined) => {
      const re = expected?.find((r) => !r.test(text ?? ''));
      return re ? `${who}: no ${re}` : undefined;
    };
    const missing = lacking('A', s.expectA, ca) ?? lacking('B', s.expectB, cb) ?? lacking('C', s.expectC, cc) ?? s.check?.(cb, ca);
    return { id: s.id, title: s.title, ok: !missing, seconds: (Date.now() - t0) / 1000, ...(missing ? { problem: missing } : {}), consoleA: ca, consoleB: cb, ...(cc !== undefined ? { consoleC: cc } : {}), runsOn: s.runsOn };
  } catch (err) {
    return { id: s.id, title: s.title, ok: false, seconds: (Date.now() - t0) / 1000, problem: (err as Error).message,
      consoleA: a ? await a.console() : '', consoleB: b ? await b.console() : '', ...(guests[2] ? { consoleC: await guests[2].console() } : {}), runsOn: s.runsOn };
  } finally {
    abortAll.abort();
    opts.signal?.removeEventListener('abort', onAbort);
    await Promise.all(guests.map((g) => g.stop()));
    for (const h of helpers) { h.kill('SIGTERM'); await h; }
    await service?.close();
    await rm(dir, { recursive: true, force: true });
  }
}
