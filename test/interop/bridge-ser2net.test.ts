import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnLaplink, startSer2net } from '../helpers/bridge-processes.js';
import { openTty, randomPayload, sha256 } from '../helpers/driver.js';
import { bothWays, linkUp } from '../helpers/bridge.js';
import { startPtyPair } from '../helpers/ptypair.js';

/**
 * Our RFC 2217 client against the real thing: ser2net 4 (`ser2net -n -d -c cfg.yaml`, YAML written
 * here, `telnet(rfc2217),tcp,127.0.0.1,P` accepter on one end of a socat pty pair), reached with
 * `laplink bridge connect 127.0.0.1:P --pty LINK --protocol rfc2217`. Data must flow both ways through
 * LINK, and a speed set on LINK with stty must be forwarded so ser2net's device shows it.
 */
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const speedOf = (device: string): number => Number(execFileSync('stty', ['-F', device, 'speed'], { encoding: 'utf8' }).trim());
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitForSpeed(device: string, speed: number, timeoutMs = 5000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let now = speedOf(device);
  while (now !== speed && Date.now() < deadline) {
    await sleep(50);
    now = speedOf(device);
  }
  return now;
}

async function verifiedBothWays(a: Duplex, b: Duplex, size: number): Promise<void> {
  const ab = randomPayload(size);
  const ba = randomPayload(size);
  const [gotB, gotA] = await bothWays(a, b, ab, ba, 30_000);
  expect(gotB, 'LINK → ser2net device, sha256').toBe(sha256(ab));
  expect(gotA, 'ser2net device → LINK, sha256').toBe(sha256(ba));
}

describe('laplink bridge connect --protocol rfc2217 against real ser2net 4', () => {
  it('carries data both ways through the local pty and forwards a speed change (stty -F LINK 9600)', async () => {
    const pair = await startPtyPair();
    cleanups.push(pair.close);
    const ser2net = await startSer2net([pair.a], { tuned: true, accepter: 'telnet(rfc2217),tcp' });
    cleanups.push(ser2net.stop);
    const dir = mkdtempSync(join(tmpdir(), 'laplink-s2n-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const link = join(dir, 'link');
    const conn = spawnLaplink(['bridge', 'connect', `127.0.0.1:${ser2net.ports[0]}`, '--pty', link, '--protocol', 'rfc2217']);
    cleanups.push(conn.stop);
    for (let i = 0; i < 250 && !existsSync(link); i++) {
      if (conn.exitCode() !== null) throw new Error(`bridge connect exited ${conn.exitCode()}: ${conn.output()}`);
      await sleep(20);
    }
    expect(existsSync(link), `bridge connect created ${link}: ${conn.output()}`).toBe(true);

    const local = openTty(link);
    cleanups.push(() => local.destroy());
    const far = openTty(pair.b);
    cleanups.push(() => far.destroy());
    await linkUp(local, far, ['LINK', 'ser2net device']);
    await verifiedBothWays(local, far, 1024 * 1024);

    expect(speedOf(pair.a), 'precondition: ser2net device not already at 9600').not.toBe(9600);
    execFileSync('stty', ['-F', link, '9600']);
    expect(await waitForSpeed(pair.a, 9600), 'ser2net device speed after stty -F LINK 9600').toBe(9600);
    execFileSync('stty', ['-F', link, '57600']);
    expect(await waitForSpeed(pair.a, 57600), 'ser2net device speed after stty -F LINK 57600').toBe(57600);

    // Still a working line after the reconfiguration.
    await verifiedBothWays(local, far, 64 * 1024);
  });
});
