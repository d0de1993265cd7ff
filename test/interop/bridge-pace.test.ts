/**
 * Line pacing (`bridge serve|connect --pace BAUD`) on real socat pty pairs and TCP peers: bytes
 * arrive byte-exact, both ways at once, and never sooner than a UART at BAUD could have carried them
 * (a lower bound on elapsed time: a loaded machine only makes it slower, so it cannot flake); the
 * paced session stays in JavaScript while an unpaced one goes to the native pump.
 */
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnLaplink } from '../helpers/bridge-processes.js';
import { openTty, randomPayload, receiveSha256, sha256 } from '../helpers/driver.js';
import { pumpAvailable } from '../../src/native/pump.js';
import { linkUp, waitUntil } from '../helpers/bridge.js';
import { startPtyPair } from '../helpers/ptypair.js';
import { servedRig } from '../helpers/served-rig.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** Seconds a UART at `baud` (8N1, 10 bits a byte) needs for all but the last FIFO of `bytes`. */
const lineSeconds = (bytes: number, baud: number, bits = 10) => ((bytes - 16) * bits) / baud;

/** Sends `payload` on `from`; resolves with the seconds until the last byte arrived intact at `to`. */
async function timed(from: Duplex, to: Duplex, payload: Buffer): Promise<number> {
  const got = receiveSha256(to, payload.length, 60_000);
  const t0 = performance.now();
  from.write(payload);
  expect(await got).toBe(sha256(payload));
  return (performance.now() - t0) / 1000;
}

const pacedRig = (extra: string[]) => servedRig(cleanups, extra);

describe('bridge --pace', () => {
  it('serve --pace 38400 carries both directions at once byte-exact, never faster than the line, in JavaScript', async () => {
    const rig = await pacedRig(['--pace', '38400']);
    const n = 6 * 1024;
    const [down, up] = await Promise.all([timed(rig.far, rig.tcp, randomPayload(n)), timed(rig.tcp, rig.far, randomPayload(n))]);
    expect(down, 'device → TCP arrived faster than 38400 baud allows').toBeGreaterThanOrEqual(lineSeconds(n, 38400));
    expect(up, 'TCP → device arrived faster than 38400 baud allows').toBeGreaterThanOrEqual(lineSeconds(n, 38400));
    // the pump would bypass the pacer: a paced session never leaves JavaScript
    expect(await rig.dataPath()).toBe('javascript');
  });

  it('uses the frame from the port settings: 8E2 is 12 bits a byte', async () => {
    const rig = await pacedRig(['--pace', '38400', '--parity', 'even', '--stopbits', '2']);
    const n = 4 * 1024;
    const up = await timed(rig.tcp, rig.far, randomPayload(n));
    expect(up).toBeGreaterThanOrEqual(lineSeconds(n, 38400, 12));
  });

  it('without --pace the same session is the native pump\'s (its path unchanged)', async () => {
    const rig = await pacedRig([]);
    if (pumpAvailable) await waitUntil(async () => (await rig.dataPath()) === 'native pump', 'the pump to take the session', 5000, 20);
    else expect.fail('dist/native/pump.node did not load: run npm run build with gcc installed');
  });

  it('connect --pace paces the local device both ways', async () => {
    const pair = await startPtyPair();
    cleanups.push(pair.close);
    const { createServer } = await import('node:net');
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const accepted = new Promise<import('node:net').Socket>((r) => server.once('connection', r));
    const port = (server.address() as import('node:net').AddressInfo).port;
    const connect = spawnLaplink(['bridge', 'connect', `127.0.0.1:${port}`, pair.a, '--no-lock', '--pace', '57600']);
    cleanups.push(connect.stop);
    const tcp = await accepted;
    cleanups.push(() => tcp.destroy());
    const far = openTty(pair.b);
    cleanups.push(() => far.destroy());
    await linkUp(tcp, far, ['remote', 'device side']);
    const n = 6 * 1024;
    const [down, up] = await Promise.all([timed(far, tcp, randomPayload(n)), timed(tcp, far, randomPayload(n))]);
    expect(down).toBeGreaterThanOrEqual(lineSeconds(n, 57600));
    expect(up).toBeGreaterThanOrEqual(lineSeconds(n, 57600));
  });

  it('refuses a --pace that is not a positive whole number, in one line', async () => {
    const p = spawnLaplink(['bridge', 'serve', '/dev/null', '--listen', '127.0.0.1:0', '--no-lock', '--pace', 'fast']);
    await p.exited;
    expect(p.exitCode()).toBe(2);
    expect(p.output().split('\n')[0]).toBe("laplink: option '--pace <baud>' argument 'fast' is invalid. Expected a whole number, 1 or more.");
    expect(p.output()).not.toMatch(/\n\s+at /);
  });
});
