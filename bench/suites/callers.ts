import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CallerGate } from '../../src/callers/gate.js';
import { AddressPool, parsePool } from '../../src/callers/pool.js';
import { CallerServer, type CallerServerSettings } from '../../src/callers/server.js';
import { packageRoot } from '../../src/paths.js';
import { median, percentile } from '../lib/stats.js';
import type { BenchSuite } from '../lib/suite.js';

/**
 * Dial-in server over TCP (issue 25). pppd is test/helpers/echo-pppd.sh, a STAND-IN (this kernel has
 * no PPP, the real pppd exits 4 at once): a shell that prints pppd's first line and echoes the tty.
 * Measured: (1) call set-up, from the caller's TCP connect (it sends its first PPP byte at once) to
 * the caller's pppd printing its first line, against a bare spawn of the same stand-in to its first
 * line as the anchor (the part no server can avoid); (2) memory per idle caller (connected, not yet
 * speaking: socket, codec and timers) in the server's own process.
 */

const standIn = join(packageRoot(), 'test/helpers/echo-pppd.sh');

function settings(runDir: string, protocol: 'ppp' | 'modem', max: number): CallerServerSettings {
  return {
    name: 'bench',
    protocol,
    transport: 'raw',
    idleMs: 600_000,
    handshakeBytes: 4096,
    connectSpeed: 115200,
    pppd: standIn,
    pppdArgs: (device, lease) => ['file', '/nonexistent', device, 'nodetach', `:${lease.ipv4}`],
    graceMs: 2000,
    runDir,
    max,
    pool: new AddressPool(parsePool('10.77.0.1-10.77.3.255')),
    gate: new CallerGate({ perAddress: 10_000, burst: 1e9, refillMs: 1 }),
  };
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

/** TCP connect → the caller's pppd printed "Using interface", for `samples` calls one after another. */
async function setUpTimes(dir: string, samples: number): Promise<number[]> {
  const waiting: Array<(at: number) => void> = [];
  let ended = 0;
  const server = await CallerServer.open({
    name: 'bench',
    address: { host: '127.0.0.1', port: 0 },
    settings: settings(dir, 'ppp', 4),
    log: (line) => {
      if (line.endsWith(': Using interface ppp0')) waiting.shift()?.(performance.now());
      if (line.includes(': hung up: ')) ended++;
    },
  });
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const up = new Promise<number>((r) => waiting.push(r));
    const at = performance.now();
    const s = await connect(server.address.port);
    s.write('~');
    times.push((await up) - at);
    s.destroy();
    while (ended <= i) await new Promise((r) => setTimeout(r, 1));
  }
  await server.close();
  return times;
}

/** The anchor: spawn the stand-in and wait for its first line, nothing else. */
async function bareSpawnTimes(samples: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const at = performance.now();
    const c = spawn(standIn, ['/dev/null'], { stdio: ['ignore', 'pipe', 'ignore'] });
    await new Promise<void>((r) => createInterface({ input: c.stdout! }).once('line', () => r()));
    times.push(performance.now() - at);
    await new Promise((r) => c.once('exit', r));
  }
  return times;
}

async function idleCallerBytes(dir: string, callers: number): Promise<number> {
  const server = await CallerServer.open({ name: 'bench', address: { host: '127.0.0.1', port: 0 }, settings: settings(dir, 'modem', callers), log: () => {} });
  global.gc?.();
  const before = process.memoryUsage().rss;
  const sockets = await Promise.all(Array.from({ length: callers }, () => connect(server.address.port)));
  while (server.callers().length < callers) await new Promise((r) => setTimeout(r, 5));
  global.gc?.();
  const after = process.memoryUsage().rss;
  for (const s of sockets) s.destroy();
  await server.close();
  // Both ends live in this process: half the growth is the callers' side of each connection at most.
  return (after - before) / callers;
}

const suite: BenchSuite = {
  name: 'callers',
  async run({ quick }) {
    const dir = await mkdtemp(join(tmpdir(), 'laplink-bench-callers-'));
    try {
      const n = quick ? 30 : 200;
      const bare = await bareSpawnTimes(n);
      const setUp = await setUpTimes(dir, n);
      const perCaller = await idleCallerBytes(dir, quick ? 100 : 500);
      const ms = (x: number) => x.toFixed(1);
      return [
        `callers: call set-up, TCP connect → pppd's first line (stand-in pppd), ${n} calls`,
        `  bare spawn of the stand-in (anchor)  p50 ${ms(median(bare))} ms  p95 ${ms(percentile(bare, 95))} ms`,
        `  laplink dial-in server               p50 ${ms(median(setUp))} ms  p95 ${ms(percentile(setUp, 95))} ms  (${(median(setUp) / median(bare)).toFixed(2)}x the anchor; target p50 ≤ 50 ms)`,
        `  memory per idle caller (server and client sockets in one process): ${(perCaller / 1024).toFixed(1)} KiB RSS`,
      ].join('\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
export default suite;
