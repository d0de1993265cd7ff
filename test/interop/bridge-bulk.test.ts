import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { serveLaplink, spawnLaplink } from '../helpers/bridge-processes.js';
import { connectTcp, openTty, randomPayload, sha256 } from '../helpers/driver.js';
import { telnetStream } from '../helpers/telnet-client.js';
import { bothWays, linkUp } from '../helpers/bridge.js';
import { startPtyPair } from '../helpers/ptypair.js';

/**
 * Bulk, byte-exact transfer through `laplink bridge` between a real socat pty pair (the null-modem
 * cable) and a TCP client, both directions at the same time, compared by sha256.
 */
const SIZE = 16 * 1024 * 1024;

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function ffHeavy(size: number): Buffer {
  const buf = randomPayload(size);
  // Every other byte 0xFF, plus runs of them: the worst case for IAC doubling.
  for (let i = 256; i < size; i += 2) buf[i] = 0xff;
  for (let i = 300_000; i < size; i += 1_000_000) buf.fill(0xff, i, Math.min(size, i + 4096));
  return buf;
}

describe('laplink bridge bulk transfer over a socat pty pair', () => {
  it('raw serve: 16 MiB each way at once arrive byte-exact (sha256)', async () => {
    const pair = await startPtyPair();
    cleanups.push(pair.close);
    const serve = await serveLaplink(pair.a);
    cleanups.push(serve.stop);
    const tcp = await connectTcp(serve.port);
    cleanups.push(() => tcp.destroy());
    const far = openTty(pair.b);
    cleanups.push(() => far.destroy());
    await linkUp(tcp, far);

    const up = randomPayload(SIZE);
    const down = randomPayload(SIZE);
    const [atDevice, atClient] = await bothWays(tcp, far, up, down);
    expect(atDevice).toBe(sha256(up));
    expect(atClient).toBe(sha256(down));
  });

  it('telnet serve: 16 MiB of 0xFF-heavy data each way at once, IAC doubled on the wire only', async () => {
    const pair = await startPtyPair();
    cleanups.push(pair.close);
    const serve = await serveLaplink(pair.a, ['--protocol', 'telnet']);
    cleanups.push(serve.stop);
    const socket = await connectTcp(serve.port);
    cleanups.push(() => socket.destroy());
    const { stream: tcp, client } = telnetStream(socket);
    const far = openTty(pair.b);
    cleanups.push(() => far.destroy());
    // Let the server's opening negotiation arrive and be answered before data flows.
    for (let i = 0; i < 100 && client.received.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(client.received.length, 'a telnet server negotiates options (e.g. WILL BINARY) on connect').toBeGreaterThan(0);
    await linkUp(tcp, far);

    const up = ffHeavy(SIZE);
    const down = ffHeavy(SIZE);
    const [atDevice, atClient] = await bothWays(tcp, far, up, down);
    expect(atDevice).toBe(sha256(up));
    expect(atClient).toBe(sha256(down));
  });

  it('bridge connect --pty ↔ bridge serve (laplink both ends): 16 MiB each way at once', async () => {
    const pair = await startPtyPair();
    cleanups.push(pair.close);
    const serve = await serveLaplink(pair.a);
    cleanups.push(serve.stop);
    const dir = mkdtempSync(join(tmpdir(), 'laplink-bulk-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const link = join(dir, 'link');
    const conn = spawnLaplink(['bridge', 'connect', `127.0.0.1:${serve.port}`, '--pty', link]);
    cleanups.push(conn.stop);
    for (let i = 0; i < 250 && !existsSync(link); i++) {
      if (conn.exitCode() !== null) throw new Error(`bridge connect exited ${conn.exitCode()}: ${conn.output()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(existsSync(link), `bridge connect created ${link}: ${conn.output()}`).toBe(true);
    const local = openTty(link);
    cleanups.push(() => local.destroy());
    const far = openTty(pair.b);
    cleanups.push(() => far.destroy());
    await linkUp(local, far);

    const up = randomPayload(SIZE);
    const down = randomPayload(SIZE);
    const [atDevice, atLocal] = await bothWays(local, far, up, down);
    expect(atDevice).toBe(sha256(up));
    expect(atLocal).toBe(sha256(down));
  });
});
