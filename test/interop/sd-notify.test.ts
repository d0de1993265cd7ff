/**
 * systemd's notify protocol as the supervisor and `bridge run` speak it, read by a real AF_UNIX
 * datagram socket (python3's socket module, bound to a path or an abstract name) standing where
 * systemd would: READY=1, STATUS= lines, WATCHDOG=1 pings when $WATCHDOG_USEC is set, STOPPING=1 on
 * SIGTERM. `serve` runs the real /usr/sbin/pppd (exits 4 here: no kernel PPP) and the pppd STAND-IN
 * test/helpers/fake-pppd.mjs (replays real pppd lines) for a link that comes up, since this kernel
 * cannot carry one. This machine does not run systemd as init; the protocol needs none.
 */
import { execa, type ResultPromise } from 'execa';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/bridge-processes.js';
import { connectTcp, waitUntil } from '../helpers/bridge.js';
import { notifySocket as bindNotifySocket } from '../helpers/notify-socket.js';
import { startPtyPair } from '../helpers/ptypair.js';
import { endWithStandIns, fakePppd, laplinkBin, profileYaml, removeDir, tempDir } from '../helpers/supervisor-harness.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** A datagram socket like systemd's notify socket; `messages` is every datagram received, in order. */
async function notifySocket(address: string): Promise<{ messages: string[] }> {
  const socket = await bindNotifySocket(address);
  cleanups.push(() => socket.close());
  return socket;
}

async function workDir(): Promise<string> {
  const dir = await tempDir('laplink-sd-');
  cleanups.push(() => removeDir(dir));
  return dir;
}

/**
 * `laplink` with `args`, ended by endWithStandIns even when the test failed half-way.
 */
function run(args: string[], env: Record<string, string>, startsFile?: string): ResultPromise & { output: () => string } {
  let output = '';
  const p = execa(process.execPath, [laplinkBin, ...args], { env: startsFile ? { ...env, FAKE_PPPD_STATE: startsFile } : env, reject: false, buffer: false, stdin: 'ignore' });
  p.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  p.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  cleanups.push(() => endWithStandIns(p, startsFile));
  return Object.assign(p, { output: () => output });
}

async function serveArgs(dir: string, pppd: string): Promise<string[]> {
  const profile = join(dir, 'link.yaml');
  await writeFile(profile, profileYaml('sdlink'));
  return ['serve', profile, '--root', join(dir, 'root'), '--state-dir', join(dir, 'state'), '--lock-dir', join(dir, 'lock'), '--run-dir', join(dir, 'run'), '--pppd', pppd];
}

describe('sd_notify from `laplink serve`', () => {
  it('path socket, pppd stand-in: READY=1 once pppd runs, STATUS per state, WATCHDOG=1 pings, STOPPING=1 on SIGTERM', async () => {
    const dir = await workDir();
    const sock = await notifySocket(join(dir, 'notify'));
    const p = run(await serveArgs(dir, fakePppd), { NOTIFY_SOCKET: join(dir, 'notify'), WATCHDOG_USEC: '200000', FAKE_PPPD_SCENARIO: 'up-hold' }, join(dir, 'fake-pppd-starts'));
    const m = sock.messages;
    await waitUntil(() => m.some((x) => x.startsWith('STATUS=up ')) || p.exitCode !== null, 'STATUS=up', 20_000, 20);
    expect(m.find((x) => x.startsWith('STATUS=up ')), p.output()).toBe('STATUS=up ppp0 192.168.7.1 -> 192.168.7.2 peer labuser, 0 restarts');
    expect(m.filter((x) => x === 'READY=1')).toHaveLength(1);
    // READY=1 comes once pppd runs: after the first STATUS naming its pid, before the link is up.
    const ready = m.indexOf('READY=1');
    expect(m.slice(0, ready).some((x) => /^STATUS=starting \(pppd \d+\)/.test(x)), m.join(' | ')).toBe(true);
    expect(ready).toBeLessThan(m.findIndex((x) => x.startsWith('STATUS=up ')));
    // Every datagram is one KEY=VALUE line.
    expect(m.filter((x) => !/^(READY=1|STOPPING=1|WATCHDOG=1|STATUS=[^\n]+)$/.test(x))).toEqual([]);
    // 200 ms watchdog: a ping every 100 ms while the event loop runs.
    const pings = m.filter((x) => x === 'WATCHDOG=1').length;
    await waitUntil(() => m.filter((x) => x === 'WATCHDOG=1').length >= pings + 3, 'three more WATCHDOG=1 pings', 10_000, 20);
    p.kill('SIGTERM');
    const r = await p;
    expect(r.exitCode, p.output()).toBe(0);
    const stopping = m.indexOf('STOPPING=1');
    expect(stopping, m.join(' | ')).toBeGreaterThan(ready);
    expect(m.filter((x) => x === 'STOPPING=1')).toHaveLength(1);
    expect(m.at(-1) === 'STATUS=stopped' || m.slice(stopping).includes('STATUS=stopped'), m.join(' | ')).toBe(true);
  });

  it('abstract socket, real /usr/sbin/pppd (exit 4): STATUS=failed: exit 4 no kernel PPP support, exit 78, no watchdog without WATCHDOG_USEC', async () => {
    const dir = await workDir();
    const name = `@laplink-test-${process.pid}-${Date.now()}`;
    const sock = await notifySocket(name);
    const p = run(await serveArgs(dir, '/usr/sbin/pppd'), { NOTIFY_SOCKET: name });
    const r = await p;
    expect(r.exitCode, p.output()).toBe(78);
    await waitUntil(() => sock.messages.includes('STOPPING=1'), 'STOPPING=1', 5000, 20);
    const m = sock.messages;
    expect(m, m.join(' | ')).toContain('STATUS=failed: exit 4 no kernel PPP support');
    expect(m.indexOf('STATUS=failed: exit 4 no kernel PPP support')).toBeLessThan(m.indexOf('STOPPING=1'));
    expect(m).not.toContain('WATCHDOG=1');
  });

  it('a watchdog meant for another process ($WATCHDOG_PID) is not pinged', async () => {
    const dir = await workDir();
    const sock = await notifySocket(join(dir, 'notify'));
    const p = run(await serveArgs(dir, fakePppd), { NOTIFY_SOCKET: join(dir, 'notify'), WATCHDOG_USEC: '100000', WATCHDOG_PID: '1', FAKE_PPPD_SCENARIO: 'up-hold' }, join(dir, 'fake-pppd-starts'));
    await waitUntil(() => sock.messages.some((x) => x.startsWith('STATUS=up ')) || p.exitCode !== null, 'STATUS=up', 20_000, 20);
    p.kill('SIGTERM');
    await p;
    expect(sock.messages).not.toContain('WATCHDOG=1');
    expect(sock.messages).toContain('STOPPING=1');
  });
});

describe('sd_notify from `laplink bridge run`', () => {
  it('READY=1 after every port listens, STATUS with ports and clients, STOPPING=1 on SIGTERM', async () => {
    const dir = await workDir();
    const pair = await startPtyPair();
    cleanups.push(pair.close);
    const [port, control] = [await freePort(), await freePort()];
    const config = join(dir, 'bridge.yaml');
    await mkdir(join(dir, 'lock'));
    await writeFile(config, `control: 127.0.0.1:${control}\nlockDir: ${join(dir, 'lock')}\nports:\n  - name: lab0\n    device: ${pair.a}\n    listen: 127.0.0.1:${port}\n`);
    const sock = await notifySocket(join(dir, 'notify'));
    const p = run(['bridge', 'run', config], { NOTIFY_SOCKET: join(dir, 'notify') });
    const m = sock.messages;
    await waitUntil(() => m.includes('READY=1') || p.exitCode !== null, 'READY=1', 20_000, 20);
    expect(m, p.output()).toContain('READY=1');
    // READY=1 only once both the port and the control port listen.
    expect(m.slice(0, m.indexOf('READY=1')).at(-1)).toBe(`STATUS=listening on 2 ports (lab0 127.0.0.1:${port}, control 127.0.0.1:${control}), 0 clients`);
    const tcp = await connectTcp(port);
    cleanups.push(() => tcp.destroy());
    await waitUntil(() => m.some((x) => x.endsWith(', 1 client')), 'STATUS with 1 client', 10_000, 20);
    tcp.destroy();
    await waitUntil(() => m.at(-1)!.endsWith(', 0 clients'), 'STATUS back to 0 clients', 10_000, 20);
    // SIGHUP reload: lab0 renamed lab1 (a port removed, one added): STATUS names what listens now
    const port1 = await freePort();
    await writeFile(config, `control: 127.0.0.1:${control}\nlockDir: ${join(dir, 'lock')}\nports:\n  - name: lab1\n    device: ${pair.a}\n    listen: 127.0.0.1:${port1}\n`);
    p.kill('SIGHUP');
    const after = `STATUS=listening on 2 ports (control 127.0.0.1:${control}, lab1 127.0.0.1:${port1}), 0 clients`;
    await waitUntil(() => m.at(-1) === after, after, 10_000, 20);
    p.kill('SIGTERM');
    await p;
    await waitUntil(() => m.includes('STOPPING=1'), 'STOPPING=1', 5000, 20);
    expect(m.filter((x) => x === 'READY=1')).toHaveLength(1);
  });
});
