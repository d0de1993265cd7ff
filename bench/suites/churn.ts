import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { BenchSuite } from '../lib/suite.js';
import { serveLaplink, type LaplinkProcess } from '../../test/helpers/bridge-processes.js';
import { connectTcp, openTty, Sink } from '../../test/helpers/driver.js';
import { fdCount, rssBytes } from '../../test/helpers/proc.js';
import { startPtyPair } from '../../test/helpers/ptypair.js';
import { sleep } from '../../src/runtime/sleep.js';

/**
 * Connect/close churn soak (issue 18): 30,000 sessions opened and closed against one `laplink bridge
 * serve` process per protocol (raw, RFC 2217), one after the other, and what the bridge holds after
 * them: file descriptors and resident memory, against their values after a warm-up. A soak, not a
 * test: it takes minutes, and the number it gives (RSS after N cycles) is a measurement to watch, not
 * a pass/fail. `npm test` keeps the short versions with exact fd counts (test/interop/bridge-cycles,
 * bridge-hostile-load). The suite fails only if the bridge dies, an fd is left open, or the port no
 * longer carries data.
 */
const MB = 1024 * 1024;

/** SET-BAUDRATE 9600, so each RFC 2217 session also starts an asynchronous request. */
const SET_BAUDRATE = Buffer.from([255, 250, 44, 1, 0, 0, 37, 128, 255, 240]);

interface Protocol {
  name: 'raw' | 'rfc2217';
  /** Bytes a client sends before it closes. */
  hello: Buffer;
}
const protocols: Protocol[] = [
  { name: 'raw', hello: Buffer.from('x') },
  { name: 'rfc2217', hello: SET_BAUDRATE },
];

interface Soak {
  protocol: string;
  cycles: number;
  seconds: number;
  fdsStart: number;
  fdsEnd: number;
  rssStartMB: number;
  rssPeakMB: number;
  rssEndMB: number;
  /** RSS at each tenth of the run, MB. */
  curve: number[];
}

/** The bridge's own fds (its short-lived children, if any, come and go between two readings). */
const fds = (pid: number): number => fdCount(pid);
const rssMB = (pid: number): number => rssBytes([pid]) / MB;

/** The fd count once it reached `target` or stopped changing for a second (the server closes sockets asynchronously). */
async function settledFds(pid: number, target?: number): Promise<number> {
  let last = fds(pid);
  let still = 0;
  for (let i = 0; i < 200 && still < 20; i++) {
    await sleep(50);
    const now = fds(pid);
    if (now === target) return now;
    still = now === last ? still + 1 : 0;
    last = now;
  }
  return last;
}

async function cycle(port: number, hello: Buffer): Promise<void> {
  const socket = await connectTcp(port);
  socket.on('error', () => undefined); // a reset from the server is part of churn
  socket.write(hello);
  socket.destroy();
  await new Promise((resolve) => socket.once('close', resolve));
}

/** Bytes the device side received, kept short: only the latest marker is looked for. */
class FarEnd {
  private tail = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  private wanted: Buffer | undefined;
  constructor(readonly stream: Duplex) {
    stream.on('data', (c: Buffer) => {
      this.tail = Buffer.concat([this.tail, c]).subarray(-4096);
      if (this.wanted && this.tail.includes(this.wanted)) this.waiter?.();
    });
  }
  /** Resolves once `marker` arrived (churn clients' own bytes may come before it). */
  seen(marker: Buffer, timeoutMs: number): Promise<void> {
    this.wanted = marker;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`device side: marker not seen after ${timeoutMs} ms`)), timeoutMs);
      this.waiter = () => (clearTimeout(t), (this.waiter = undefined), resolve());
    });
  }
}

/** One marker each way through a fresh session: the port still carries data. */
async function stillCarries(port: number, far: FarEnd): Promise<void> {
  const tcp = await connectTcp(port);
  const tcpSink = new Sink(tcp, 'client');
  try {
    const up = randomBytes(16);
    const atDevice = far.seen(up, 10_000);
    tcp.write(up);
    await atDevice;
    const down = randomBytes(16);
    const atClient = tcpSink.expect(down, 10_000);
    far.stream.write(down);
    await atClient;
  } finally {
    tcpSink.detach();
    tcp.destroy();
  }
}

async function soak(p: Protocol, cycles: number, signal: AbortSignal): Promise<Soak> {
  const pair = await startPtyPair();
  let serve: (LaplinkProcess & { port: number }) | undefined;
  const far = openTty(pair.b);
  try {
    // Four sessions may overlap: a client's close and the next connect race, and a refusal ("in use")
    // would be a different path from the session this soak is about.
    serve = await serveLaplink(pair.a, ['--protocol', p.name, '--max-connections', '4']);
    const farEnd = new FarEnd(far);
    // Warm-up: code compiled, pools and the device opened; measure after that.
    for (let i = 0; i < 200; i++) await cycle(serve.port, p.hello);
    if (p.name === 'raw') await stillCarries(serve.port, farEnd);
    const fdsStart = await settledFds(serve.pid);
    const rssStartMB = rssMB(serve.pid);
    let rssPeakMB = rssStartMB;
    const curve: number[] = [];
    const t0 = performance.now();
    for (let i = 1; i <= cycles; i++) {
      signal.throwIfAborted();
      await cycle(serve.port, p.hello);
      if (i % 250 === 0) rssPeakMB = Math.max(rssPeakMB, rssMB(serve.pid));
      if (i % (cycles / 10) === 0) curve.push(rssMB(serve.pid));
    }
    const seconds = (performance.now() - t0) / 1000;
    const fdsEnd = await settledFds(serve.pid, fdsStart);
    await sleep(1000); // sessions' last callbacks and a GC the idle bridge may run
    const rssEndMB = rssMB(serve.pid);
    if (serve.exitCode() !== null) throw new Error(`${p.name}: the bridge exited during the soak: ${serve.output()}`);
    if (fdsEnd !== fdsStart) throw new Error(`${p.name}: ${fdsEnd - fdsStart} file descriptors left open after ${cycles} cycles`);
    if (p.name === 'raw') await stillCarries(serve.port, farEnd);
    return { protocol: p.name, cycles, seconds, fdsStart, fdsEnd, rssStartMB, rssPeakMB, rssEndMB, curve };
  } finally {
    far.destroy();
    await serve?.stop();
    await pair.close();
  }
}

function table(rows: Soak[]): string {
  const head = '| protocol | cycles | cycles/s | fds start → end | RSS start → peak → end, MB | end − start | RSS at each tenth, MB |\n|---|---|---|---|---|---|---|';
  const lines = rows.map(
    (r) =>
      `| ${r.protocol} | ${r.cycles} | ${(r.cycles / r.seconds).toFixed(0)} | ${r.fdsStart} → ${r.fdsEnd} | ${r.rssStartMB.toFixed(1)} → ${r.rssPeakMB.toFixed(1)} → ${r.rssEndMB.toFixed(1)} | ${(r.rssEndMB - r.rssStartMB >= 0 ? '+' : '') + (r.rssEndMB - r.rssStartMB).toFixed(1)} | ${r.curve.map((v) => v.toFixed(0)).join(' ')} |`,
  );
  return [head, ...lines].join('\n');
}

export const suite: BenchSuite = {
  name: 'churn',
  async run({ quick, signal }) {
    const cycles = quick ? 2_000 : 30_000;
    const rows: Soak[] = [];
    for (const p of protocols) rows.push(await soak(p, cycles, signal));
    return `connect/close churn against one \`laplink bridge serve\` per protocol, after 200 warm-up cycles\n\n${table(rows)}`;
  },
};
