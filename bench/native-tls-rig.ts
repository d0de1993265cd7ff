/**
 * A spike's measuring rig, outside `npm run bench` (the terminator is wired into no bridge yet):
 * TCP→pty throughput of TLS terminated by socat `OPENSSL-LISTEN … FILE:DEV,raw` against TLS
 * terminated in C by native/tls.c with its socketpair end joined to the same pty by the native pump.
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

/** Seconds from the client's start until the reader has every byte from the pty. */
async function transfer(pair: PtyPair, port: number, data: string): Promise<number> {
  // timeout(1): a byte lost would otherwise leave head waiting for ever.
  const reader = run('timeout', ['120', 'head', '-c', String(bytes), pair.b]);
  const t0 = process.hrtime.bigint();
  const client = run('socat', ['-u', `FILE:${data}`, `OPENSSL:127.0.0.1:${port},cafile=${benchCert().cert},commonname=localhost`]);
  const [readerCode, clientCode] = await Promise.all([reader, client]);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (readerCode !== 0 || clientCode !== 0) throw new Error(`head exited ${readerCode}, socat client ${clientCode}`);
  return seconds;
}

async function socatTurn(data: string): Promise<number> {
  const pair = await startPtyPair();
  const server = await startSocatTls(pair.a);
  try {
    return await transfer(pair, server.ports[0]!, data);
  } finally {
    await server.stop();
    await pair.close();
  }
}

async function nativeTurn(data: string): Promise<number> {
  const pair = await startPtyPair();
  const device = openSync(pair.a, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
  const c = benchCert();
  const accepter = new NativeTlsAccepter({ cert: c.cert, key: c.key }, { clientCert: 'none', verifiesChain: false, allow: [] });
  const sockets: net.Socket[] = [];
  const server = net.createServer({ pauseOnConnect: true }, (raw) =>
    accepter.accept(
      raw,
      (session) => {
        // The pump is the socketpair end's only reader, as the bridge hands a raw session over.
        sockets.push(session.socket);
        holdReads(session.socket);
        // At the client's end the pump stops with up to 64 KiB read but not yet written (its
        // contract: the caller writes them), which the reader is still waiting for.
        const pump = NativePump.start(streamFd(session.socket)!, device, () => void writeAll(device, pump!.stop().pendingToB));
        if (!pump) throw new Error('the native pump did not start');
      },
      (reason) => console.error(`refused: ${reason}`),
    ),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await transfer(pair, (server.address() as net.AddressInfo).port, data);
  } finally {
    for (const s of sockets) s.destroy();
    accepter.close();
    await new Promise((resolve) => server.close(resolve));
    closeSync(device);
    await pair.close();
  }
}

const data = join(benchCert().dir, 'payload.bin');
writeFileSync(data, randomBytes(bytes));
const rates: Record<string, number[]> = { 'socat OPENSSL-LISTEN': [], 'native tls.c + pump': [] };
try {
  for (let turn = 0; turn < turns; turn++) {
    rates['socat OPENSSL-LISTEN']!.push(bytes / 1e6 / (await socatTurn(data)));
    rates['native tls.c + pump']!.push(bytes / 1e6 / (await nativeTurn(data)));
  }
} finally {
  rmSync(data, { force: true });
  benchCert().remove();
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const [name, xs] of Object.entries(rates)) console.log(`${name.padEnd(22)} ${xs.map((x) => x.toFixed(1)).join(', ')} MB/s (median ${median(xs).toFixed(1)})`);
console.log(`native / socat, medians: ${(median(rates['native tls.c + pump']!) / median(rates['socat OPENSSL-LISTEN']!)).toFixed(2)}`);
