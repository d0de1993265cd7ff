/**
 * A spike's measuring rig, outside `npm run bench` (the terminator is wired into no bridge yet):
 * TCP→pty throughput of TLS terminated by socat `OPENSSL-LISTEN … FILE:DEV,raw` against TLS
 * terminated in C by native/tls.c, its socketpair end joined to the same pty by the native pump, and
 * by native/tls.c writing straight to the pty.
 * Same client (socat OPENSSL: sending a file of random bytes), same reader (head -c N on the pty
 * pair's far end), same certificate; contenders alternate, a few turns each.
 *
 *   npm run build && node dist/bench/native-tls-rig.js [MiB=128] [turns=3]
 */
import { spawn } from 'node:child_process';
import { closeSync, constants, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { join } from 'node:path';
import { holdReads, NativePump, streamFd } from '../src/bridge/pump.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { NativeTlsAccepter } from '../src/tls/native-accepter.js';
import { startPtyPair, type PtyPair } from '../test/helpers/ptypair.js';
import { cpuSeconds } from '../test/helpers/proc.js';

/** This process's CPU time, every thread (the addon's TLS and pump threads included). */
const ownCpuSeconds = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
import { benchCert, startSocatTls } from './suites/bridge-tls.js';

const mib = Number(process.argv[2] ?? 128);
const turns = Number(process.argv[3] ?? 3);
const bytes = mib * 1024 * 1024;

function run(cmd: string, args: string[]): Promise<number | null> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
}

/** Writes `buf` to a nonblocking fd, waiting out a full pty. */
async function writeAll(fd: number, buf: Buffer): Promise<void> {
  let at = 0;
  while (at < buf.length) {
    try {
      at += writeSync(fd, buf, at);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      await sleep(1);
    }
  }
}

interface Turn {
  seconds: number;
  /** CPU time of the terminating side (socat's server tree, or this whole process) per MiB moved. */
  cpuMsPerMiB: number;
}

/** From the client's start until the reader has every byte from the pty: the time, and the terminator's CPU time (`cpu`, seconds so far). */
async function transfer(pair: PtyPair, port: number, data: string, cpu: () => number): Promise<Turn> {
  const cpu0 = cpu();
  // timeout(1): a byte lost would otherwise leave head waiting for ever.
  const reader = run('timeout', ['120', 'head', '-c', String(bytes), pair.b]);
  const t0 = process.hrtime.bigint();
  const client = run('socat', ['-u', `FILE:${data}`, `OPENSSL:127.0.0.1:${port},cafile=${benchCert().cert},commonname=localhost`]);
  const [readerCode, clientCode] = await Promise.all([reader, client]);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpuMsPerMiB = ((cpu() - cpu0) * 1000) / mib;
  if (readerCode !== 0 || clientCode !== 0) throw new Error(`head exited ${readerCode}, socat client ${clientCode}`);
  return { seconds, cpuMsPerMiB };
}

async function socatTurn(data: string): Promise<Turn> {
  const pair = await startPtyPair();
  const server = await startSocatTls(pair.a);
  try {
    return await transfer(pair, server.ports[0]!, data, () => cpuSeconds(server.pids));
  } finally {
    await server.stop();
    await pair.close();
  }
}

const logRefusal = (reason: string): void => console.error(`refused: ${reason}`);

/**
 * One turn of a native row: a NativeTlsAccepter on a loopback port, `serve` deciding what each
 * connection's session is joined to (the pty is `device`); sockets it pushes are destroyed after.
 */
async function nativeRow(data: string, serve: (accepter: NativeTlsAccepter, raw: net.Socket, device: number, sockets: net.Socket[]) => void): Promise<Turn> {
  const pair = await startPtyPair();
  const device = openSync(pair.a, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
  const c = benchCert();
  const accepter = new NativeTlsAccepter({ cert: c.cert, key: c.key }, { clientCert: 'none', verifiesChain: false, allow: [] });
  const sockets: net.Socket[] = [];
  const server = net.createServer({ pauseOnConnect: true }, (raw) => serve(accepter, raw, device, sockets));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await transfer(pair, (server.address() as net.AddressInfo).port, data, ownCpuSeconds);
  } finally {
    for (const s of sockets) s.destroy();
    accepter.close();
    await new Promise((resolve) => server.close(resolve));
    closeSync(device);
    await pair.close();
  }
}

/** native/tls.c's socketpair end joined to the pty by the native pump, as the bridge would hand over a raw session. */
const nativeTurn = (data: string): Promise<Turn> =>
  nativeRow(data, (accepter, raw, device, sockets) =>
    accepter.accept(
      raw,
      (session) => {
        // The pump must be the socketpair end's only reader.
        sockets.push(session.socket);
        holdReads(session.socket);
        // At the client's end the pump stops with up to 64 KiB read but not yet written (its
        // contract: the caller writes them), which the reader is still waiting for.
        const pump = NativePump.start(streamFd(session.socket)!, device, () => void writeAll(device, pump!.stop().pendingToB));
        if (!pump) throw new Error('the native pump did not start');
      },
      logRefusal,
    ),
  );

/** native/tls.c writing the session's plaintext straight to the pty (acceptToDevice): no socketpair, no pump. */
const directTurn = (data: string): Promise<Turn> => nativeRow(data, (accepter, raw, device) => accepter.acceptToDevice(raw, device, () => undefined, logRefusal));

const data = join(benchCert().dir, 'payload.bin');
writeFileSync(data, randomBytes(bytes));
const contenders: Record<string, (data: string) => Promise<Turn>> = { 'socat OPENSSL-LISTEN': socatTurn, 'native tls.c + pump': nativeTurn, 'native tls.c to pty': directTurn };
const turnsOf: Record<string, Turn[]> = Object.fromEntries(Object.keys(contenders).map((name) => [name, []]));
try {
  for (let turn = 0; turn < turns; turn++) for (const [name, run] of Object.entries(contenders)) turnsOf[name]!.push(await run(data));
} finally {
  rmSync(data, { force: true });
  benchCert().remove();
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rate = (t: Turn): number => bytes / 1e6 / t.seconds;
const socat = turnsOf['socat OPENSSL-LISTEN']!;
for (const [name, ts] of Object.entries(turnsOf)) {
  const rates = ts.map(rate);
  const cpu = ts.map((t) => t.cpuMsPerMiB);
  console.log(`${name.padEnd(22)} ${rates.map((x) => x.toFixed(1)).join(', ')} MB/s (median ${median(rates).toFixed(1)}, ${(median(rates) / median(socat.map(rate))).toFixed(2)}x socat); CPU ${cpu.map((x) => x.toFixed(2)).join(', ')} ms/MiB (median ${median(cpu).toFixed(2)})`);
}
