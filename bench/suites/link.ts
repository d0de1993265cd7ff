/**
 * Link benchmark (issue 17): what crosses a paced null-modem cable per second. The qemu lab pair
 * (real pppd 2.4.9, Debian's 6.1 kernel) is joined by `laplink bridge serve --pace BAUD` + `bridge
 * connect`, so both directions move like a UART at BAUD 8N1. Guest B times each transfer itself
 * (lab/scenario-link.ts); goodput is taken from two sizes of the same transfer, (L − S) bytes over
 * (tL − tS) seconds, so connection set-up, process start and TCP slow start cancel out. The small
 * one runs twice and the faster counts: a host that wakes the guests late only ever adds time, and
 * one late small transfer would otherwise inflate the difference.
 *
 * Latency under load (issue 23): on one link, B downloads random data and then text while pinging
 * A every 200 ms, with both ends' queue management hooks undone and then in place, side by side.
 * Configurations (`--only NAME`): pacer, 115200-deflate, 115200-none, 115200-none-off, load-115200, load-115200-mtu576,
 * and the same at 38400 (`-off`: queue management off).
 *
 * Also: the round-trip time of a 56-byte ping against its bytes' time on the wire, and the pacer's
 * own accuracy pty to pty with no PPP at all. The bridge runs at real-time priority (chrt -f 50)
 * when this runs as root: the host wakes a normal-priority pacer late on a busy machine.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { prepareLab, runScenario, type LabImages } from '../../lab/run.js';
import { linkScenario, loadPings, pingTimes, retransmitCauses, retransmitted, transfers, type LinkPlan, type LoadPings, type Transfer } from '../../lab/scenario-link.js';
import { laplinkArgv } from '../../src/paths.js';
import { HEADROOM_VJ } from '../../src/profile/queue.js';
import { freePort } from '../../test/helpers/bridge-processes.js';
import { connectTcp, exchangeMarkers, openTty, randomPayload, receiveSha256, sha256, Sink } from '../../test/helpers/driver.js';
import { goodputCeiling, lineRate, pingWireSeconds } from '../lib/link-ceiling.js';
import { startPtyPair } from '../../test/helpers/ptypair.js';
import { median, percentile } from '../lib/stats.js';
import type { BenchSuite } from '../lib/suite.js';

/** The smaller MTU README offers for interactive use, measured beside the default. */
const INTERACTIVE_MTU = 576;

const REALTIME = process.getuid?.() === 0 && existsSync('/usr/bin/chrt');
/** Share of segments VJ compressed in issue 17's measurement (about two thirds). */
const VJ_SHARE = 2 / 3;

/** Goodput of each transfer (queue management on, as generated, or both ends' hooks undone). */
interface GoodputConfig {
  kind: 'goodput';
  baud: number;
  compression: 'deflate' | 'none';
  queue: 'on' | 'off';
}

/** Latency under load: one link, downloads with pings beside them, unmanaged and managed in turn. */
interface LoadConfig {
  kind: 'load';
  baud: number;
  /** The profiles' `mtu:` (default pppd's 1500): a smaller one for interactive use, at its cost in goodput. */
  mtu?: number;
}

type Config = GoodputConfig | LoadConfig;

/** The name `--only` takes: 115200-deflate, 115200-none-off, load-38400, pacer. */
export function configName(c: Config): string {
  if (c.kind === 'load') return `load-${c.baud}${c.mtu ? `-mtu${c.mtu}` : ''}`;
  return `${c.baud}-${c.compression}${c.queue === 'off' ? '-off' : ''}`;
}

/** Small and large size of each transfer at this speed: the large one takes ~10 s of random data (a guest woken 0.1 s late moves the figure by 1 %). */
function sizes(baud: number, quick: boolean): { small: number; large: number } {
  const large = Math.round((lineRate(baud) * (quick ? 3 : 10)) / 4096) * 4096;
  return { small: 4096, large: large + 4096 };
}

function plan(c: GoodputConfig, quick: boolean): LinkPlan {
  const { small, large } = sizes(c.baud, quick);
  const both = (dir: 'down' | 'up', name: 'random' | 'text') => [
    // from the payload's end, each its own bytes: deflate would compress a repeat against its history
    { dir, name, bytes: small, skip: 0 },
    { dir, name, bytes: small, skip: small },
    // text with deflate: all of it (263 KB, ~9 s at 115200); uncompressed, as long as random data
    { dir, name, bytes: name === 'text' && c.compression === 'deflate' ? ('all' as const) : large },
  ];
  return {
    id: `link-${configName(c)}`,
    title: `${c.baud} baud, compression ${c.compression}, queue management ${c.queue}`,
    pace: c.baud,
    realtime: REALTIME,
    // ahead of whatever else this host runs (tests, other benches): a guest woken late stalls the line
    guestNice: -10,
    compression: c.compression,
    pings: c.compression === 'none' ? 10 : 0,
    transfers: [...both('down', 'random'), ...both('up', 'random'), ...both('down', 'text'), ...both('up', 'text')],
    transferQueue: c.queue,
  };
}

/**
 * Latency under load: B downloads from A while pinging A every 200 ms, first with both ends'
 * queue hooks undone (unmanaged), then with them (managed), random data then text, interleaved so
 * a host that gets busier during the run does not favour one side. Random slices differ: deflate
 * would compress a repeat against its history.
 */
function loadPlan(c: LoadConfig, quick: boolean): LinkPlan {
  const random = Math.round((lineRate(c.baud) * (quick ? 4 : 8)) / 4096) * 4096;
  return {
    id: `link-${configName(c)}`,
    title: `${c.baud} baud${c.mtu ? `, MTU ${c.mtu}` : ''}, latency under load, unmanaged and managed`,
    pace: c.baud,
    ...(c.mtu ? { mtu: c.mtu } : {}),
    realtime: REALTIME,
    guestNice: -10,
    compression: 'deflate',
    pings: 0,
    transfers: [],
    load: [
      { dir: 'down', name: 'random', bytes: random, skip: 0, queue: 'off' },
      { dir: 'down', name: 'random', bytes: random, skip: random, queue: 'on' },
      { dir: 'down', name: 'text', bytes: 'all', queue: 'off' },
      { dir: 'down', name: 'text', bytes: 'all', queue: 'on' },
    ],
  };
}

/** Wire time of one full-size frame of random data: the MTU + 4 bytes of HDLC + escapes (2/256), 10 bits a byte. */
function frameWireMs(baud: number, mtu = 1500): number {
  return ((mtu + 4 + (mtu * 2) / 256) * 10 * 1000) / baud;
}

const ms = (n: number) => `${Math.round(n)}`;

async function loadRows(images: LabImages, c: LoadConfig, quick: boolean, signal: AbortSignal): Promise<Row[]> {
  const r = await runScenario(linkScenario(loadPlan(c, quick)), images, { signal });
  const xs = transfers(r.consoleB);
  const { idle, loaded } = loadPings(r.consoleB);
  process.stderr.write(`link bench: ${configName(c)}: ${r.seconds.toFixed(1)} s${r.problem ? `, ${r.problem}` : ''}\n${loaded.map((l) => `  ${l.dir} ${l.name} queue ${l.queue}: ${l.received}/${l.sent} pings, retrans ${l.retrans}`).join('\n')}\n`);
  if (!r.ok) process.stderr.write(`--- console A (tail)\n${r.consoleA.split('\n').slice(-25).join('\n')}\n--- console B (tail)\n${r.consoleB.split('\n').slice(-25).join('\n')}\n`);
  if (loaded.length === 0) return [{ what: `${configName(c)}: the lab run`, value: r.problem ?? 'no loaded transfers', target: 'runs', met: false }];
  const idle50 = median(idle);
  const budget = idle50 + 2 * frameWireMs(c.baud, c.mtu);
  const mtu = c.mtu ? ` MTU ${c.mtu}` : '';
  const rows: Row[] = [{
    what: `${c.baud}${mtu} idle ping (every ${0.2 * 1000} ms, deflate), p50 / max of ${idle.length}`,
    value: `${ms(idle50)} / ${ms(Math.max(...idle))} ms`,
    target: '–',
    met: undefined,
  }];
  // the loaded transfers in the order they ran; each is the xfer of the same name before its pings
  const xfers = xs.filter((t) => t.dir === 'down');
  loaded.forEach((l: LoadPings, i) => {
    const t = xfers[i];
    const goodput = t ? `${x(t.bytes / t.seconds / lineRate(c.baud))}${t.exact ? '' : ' BYTES DIFFER'}` : 'no transfer';
    const p = (q: number) => ms(percentile(l.times, q));
    // the last ping may still be in flight when ping is stopped: it is not counted as lost
    const lost = Math.max(0, l.sent - l.received - 1);
    const p99 = percentile(l.times, 99);
    rows.push({
      what: `${c.baud}${mtu} ${l.name} download, queue management ${l.queue === 'on' ? '**on**' : 'off'}: ping p50 / p90 / p99 / max under load (${l.received} of ${l.sent}${lost ? `, ${lost} lost` : ''}); whole-transfer goodput; sender's TCP retransmissions`,
      value: `${p(50)} / ${p(90)} / ${p(99)} / ${ms(Math.max(...l.times))} ms; ${goodput}; ${l.retrans}`,
      target: l.queue === 'on' ? `p99 ≤ ${ms(budget)} ms (idle + 2 × ${ms(frameWireMs(c.baud, c.mtu))} ms frame)` : '–',
      met: l.queue === 'on' ? l.times.length > 0 && lost === 0 && p99 <= budget : undefined,
    });
  });
  return rows;
}

/** Steady-state bytes a second of one direction and payload: (L − S) / (tL − tS). */
function goodput(xs: Transfer[], dir: 'down' | 'up', name: string): { rate: number; exact: boolean } | undefined {
  const runs = xs.filter((x) => x.dir === dir && x.name === name).sort((a, b) => a.bytes - b.bytes || a.seconds - b.seconds);
  if (runs.length < 2) return undefined;
  const [s, l] = [runs[0]!, runs.at(-1)!]; // the faster of the small runs, the large one
  if (!(l.bytes > s.bytes && l.seconds > s.seconds)) return undefined; // the transfers failed
  return { rate: (l.bytes - s.bytes) / (l.seconds - s.seconds), exact: runs.every((r) => r.exact) };
}

interface Row {
  what: string;
  value: string;
  target: string;
  met: boolean | undefined;
}

const x = (n: number) => `${n.toFixed(3)}×`;

/** The pacer alone: serve --pace on one pty pair, connect on another, bytes each way at once. */
async function pacerAccuracy(baud: number, seconds: number): Promise<Row[]> {
  const cleanups: Array<() => unknown> = [];
  try {
    const served = await startPtyPair();
    cleanups.push(served.close);
    const dialed = await startPtyPair();
    cleanups.push(dialed.close);
    const port = await freePort();
    const lockDir = mkdtempSync(join(tmpdir(), 'laplink-lock-'));
    cleanups.push(() => rmSync(lockDir, { recursive: true, force: true }));
    const [node, bin] = laplinkArgv();
    const argv = [node!, bin!, 'bridge', 'serve', served.a, '--listen', `127.0.0.1:${port}`, '--lock-dir', lockDir, '--pace', String(baud)];
    const rt = REALTIME ? ['/usr/bin/chrt', '-f', '50'] : [];
    const serve = spawn([...rt, ...argv][0]!, [...rt, ...argv].slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
    cleanups.push(() => serve.kill('SIGTERM'));
    await new Promise<void>((resolve, reject) => {
      let out = '';
      serve.stdout!.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('listening on')) resolve();
      });
      serve.once('exit', (code) => reject(new Error(`bridge serve --pace exited ${code}`)));
    });
    const connect = spawn(node!, [bin!, 'bridge', 'connect', `127.0.0.1:${port}`, dialed.a, '--no-lock'], { stdio: 'ignore' });
    cleanups.push(() => connect.kill('SIGTERM'));
    const near = openTty(served.b);
    const far = openTty(dialed.b);
    cleanups.push(() => near.destroy(), () => far.destroy());
    await linkEnds(near, far);
    const n = Math.round(lineRate(baud) * seconds);
    const time = async (from: Duplex, to: Duplex) => {
      const payload = randomPayload(n);
      const got = receiveSha256(to, n, 120_000);
      const t0 = performance.now();
      from.write(payload);
      if ((await got) !== sha256(payload)) throw new Error('pacer accuracy: bytes differ');
      return (performance.now() - t0) / 1000;
    };
    const [down, up] = await Promise.all([time(near, far), time(far, near)]);
    const ideal = n / lineRate(baud);
    const fastest = (n - 16) / lineRate(baud); // a FIFO ahead of the wire is a UART's own lead
    return [
      ['device → TCP → device', down],
      ['other way, at once', up],
    ].map(([dir, t]) => ({
      what: `pacer alone at ${baud}, ${dir} (${n} B, ideal ${ideal.toFixed(2)} s${REALTIME ? ', chrt -f 50' : ''})`,
      value: `${x(ideal / (t as number))} of the line rate (${(t as number).toFixed(3)} s)`,
      target: '≥ 0.99×, never faster',
      met: ideal / (t as number) >= 0.99 && (t as number) >= fastest,
    }));
  } finally {
    for (const c of cleanups.reverse()) await c();
  }
}

/** Markers both ways before timing: bytes written to a pty nobody reads yet are lost. */
async function linkEnds(a: Duplex, b: Duplex): Promise<void> {
  const sa = new Sink(a, 'near');
  const sb = new Sink(b, 'far');
  try {
    await exchangeMarkers(a, sa, b, sb);
  } finally {
    sa.detach();
    sb.detach();
  }
}

async function linkRows(images: LabImages, c: GoodputConfig, quick: boolean, signal: AbortSignal): Promise<Row[]> {
  const r = await runScenario(linkScenario(plan(c, quick)), images, { signal });
  const label = `${c.baud} ${c.compression === 'deflate' ? 'deflate 15' : 'noccp'}, queue ${c.queue}`;
  const xs = transfers(r.consoleB);
  process.stderr.write(`link bench: ${label}: ${r.seconds.toFixed(1)} s${r.problem ? `, ${r.problem}` : ''}\n${xs.map((t) => `  ${t.dir} ${t.name} ${t.bytes} B ${t.seconds} s ${t.exact ? 'exact' : 'MISMATCH'}`).join('\n')}\n`);
  if (!r.ok) process.stderr.write(`--- console A (tail)\n${r.consoleA.split('\n').slice(-25).join('\n')}\n--- console B (tail)\n${r.consoleB.split('\n').slice(-25).join('\n')}\n`);
  if (!r.ok && xs.length === 0) return [{ what: `${label}: the lab run`, value: r.problem ?? 'failed', target: 'runs', met: false }];
  const rate = lineRate(c.baud);
  const rows: Row[] = [];
  const deflated = /Deflate \(15\) compression enabled/.test(r.consoleA + r.consoleB);
  for (const name of ['random', 'text'] as const) {
    for (const dir of ['down', 'up'] as const) {
      const g = goodput(xs, dir, name);
      // queue management on: no timestamps, so VJ compresses (nearly) every segment
      const ceiling = goodputCeiling({ ...(c.queue === 'on' ? { vjShare: 1, timestamps: false } : { vjShare: VJ_SHARE }), escapeShare: name === 'random' ? 2 / 256 : 0 });
      // a shaper a few percent below the line costs those percent of goodput (issue 23's target)
      const target = name === 'random' ? (c.queue === 'on' ? 0.9 : 0.96) : c.compression === 'deflate' ? 2.6 : undefined;
      const ratio = g ? g.rate / rate : NaN;
      rows.push({
        what: `${label}${c.compression === 'deflate' ? (deflated ? '' : ' (NOT negotiated)') : ''}, ${name}, ${dir === 'down' ? 'A → B' : 'B → A'}`,
        value: g ? `${x(ratio)} (${Math.round(g.rate)} B/s${g.exact ? '' : ', BYTES DIFFER'})` : 'no result',
        target: target === undefined ? `ceiling ${x(ceiling)}` : `≥ ${target}× (ceiling ${x(ceiling)}${name === 'text' ? ' uncompressed' : ''})`,
        met: target === undefined ? undefined : Boolean(g?.exact) && ratio >= target,
      });
    }
  }
  rows.push({
    what: `${label}, TCP segments sent again (RetransSegs, all transfers)`,
    value: `A ${retransmitted(r.consoleA) ?? '?'} (${retransmitCauses(r.consoleA)}), B ${retransmitted(r.consoleB) ?? '?'} (${retransmitCauses(r.consoleB)})`,
    target: 'what the link lost to retransmission (0 on a clean link)',
    met: undefined,
  });
  const pings = pingTimes(r.consoleB);
  if (pings.length) {
    const wire = pingWireSeconds(c.baud) * 1000;
    const p50 = median(pings);
    rows.push({
      what: `${label}, 56-byte ping, median of ${pings.length} (wire ${wire.toFixed(2)} ms)`,
      value: `${p50.toFixed(2)} ms = ${(p50 / wire).toFixed(2)}× wire`,
      target: `≤ ${(1.2 * wire + 2).toFixed(2)} ms (1.2× wire + 2 ms)`,
      met: p50 <= 1.2 * wire + 2,
    });
  }
  return rows;
}

export const suite: BenchSuite = {
  name: 'link',
  async run({ quick, signal, only }) {
    const t0 = performance.now();
    // the shaper's knee moves with how late this host wakes the guests: every figure goes with the load it was taken at
    const loadAtStart = loadavg()[0]!;
    const goodputs = (baud: number): Config[] => [
      { kind: 'goodput', baud, compression: 'deflate', queue: 'on' },
      { kind: 'goodput', baud, compression: 'none', queue: 'on' },
      { kind: 'goodput', baud, compression: 'none', queue: 'off' },
    ];
    const all: Config[] = [...goodputs(115200), { kind: 'load', baud: 115200 }, { kind: 'load', baud: 115200, mtu: INTERACTIVE_MTU }, ...goodputs(38400), { kind: 'load', baud: 38400 }];
    const names = ['pacer', ...all.map(configName)];
    const unknown = only?.filter((o) => !names.includes(o)) ?? [];
    if (unknown.length) throw new Error(`--only ${unknown.join(', ')}: no such link configuration (allowed: ${names.join(', ')})`);
    // --quick: 115200 only; --only: exactly those named
    const configs = only ? all.filter((c) => only.includes(configName(c))) : all.filter((c) => !quick || c.baud === 115200);
    const images = await prepareLab((l) => process.stderr.write(`lab: ${l}\n`));
    const rows: Row[] = [];
    if (!only || only.includes('pacer')) rows.push(...(await pacerAccuracy(115200, quick ? 2 : 5)));
    for (const c of configs) {
      if (signal.aborted) break;
      rows.push(...(c.kind === 'load' ? await loadRows(images, c, quick, signal) : await linkRows(images, c, quick, signal)));
    }
    const minutes = (performance.now() - t0) / 60_000;
    return [
      `Goodput as a share of the line rate (8N1: baud/10 B/s), steady state from two sizes per transfer; ceiling from the framing (MTU 1500; queue management off: timestamps on and VJ on ${Math.round(VJ_SHARE * 100)} % of segments; on: no timestamps, VJ on every segment). Queue management on = the generated ip-up.d hooks (CAKE at ${HEADROOM_VJ} of the line less escapes, the lab profiles having VJ on); off = both ends' hooks undone. Under load: pings every 200 ms beside one download, goodput of the whole transfer (slow start and pings included); ${REALTIME ? 'bridge at chrt -f 50, guests at nice -10' : 'bridge and guests at normal priority'}; ${minutes.toFixed(1)} min; load average ${loadAtStart.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end.`,
      '',
      '| measurement | result | target | met |',
      '|---|---|---|---|',
      ...rows.map((r) => `| ${r.what} | ${r.value} | ${r.target} | ${r.met === undefined ? '–' : r.met ? 'yes' : '**no**'} |`),
    ].join('\n');
  },
};
