/**
 * Device loss as a USB unplug looks here: the socat that makes the pty pair is killed, the pts node
 * vanishes and reads fail. The server must tell the client, keep listening, reopen the device when a
 * new pair appears under the same name, and hold no extra file descriptors afterwards.
 */
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { ask, collect, connectTcp, openControl, openEnd, startCli, stop, waitUntil } from '../helpers/bridge.js';
import { startPtyPair } from '../helpers/ptypair.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups.length = 0;
});

const fdCount = (pid: number) => fs.readdirSync(`/proc/${pid}/fd`).length;

const until = (cond: () => boolean, what: string) => waitUntil(cond, what, 15_000, 50);

describe('bridge serve: device loss', () => {
  it('closes clients with the close string, reopens the device when it returns, leaks no fd', async () => {
    const first = await startPtyPair();
    cleanups.push(() => first.close());
    const srv = await startCli(
      ['bridge', 'serve', first.a, '--listen', '127.0.0.1:0', '--no-lock', '--close-string', 'GONE\\r\\n'],
      /listening on 127\.0\.0\.1:(\d+)\n/,
    );
    cleanups.push(() => stop(srv.proc));
    const port = Number(srv.match[1]);
    const pid = srv.proc.pid!;
    await new Promise((r) => setTimeout(r, 200));
    const fdsBefore = fdCount(pid);

    const c1 = await connectTcp(port);
    const c1Text = new Promise<string>((r) => {
      let t = '';
      c1.on('data', (c) => (t += c.toString()));
      c1.on('close', () => r(t));
    });
    await first.hangup();
    expect(await c1Text).toBe('GONE\r\n');
    await until(() => /device gone/.test(srv.stderr()), 'the "device gone" line');

    // While the device is away the port still answers, with a reason.
    const c2 = await connectTcp(port);
    const c2Text = await new Promise<string>((r) => {
      let t = '';
      c2.on('data', (c) => (t += c.toString()));
      c2.on('close', () => r(t));
    });
    expect(c2Text).toBe('Device unavailable\r\n');

    const second = await startPtyPair({ dir: first.dir });
    cleanups.push(() => second.close());
    await until(() => (srv.stderr().match(/device open/g) ?? []).length >= 2, 'the device to reopen');
    const c3 = await connectTcp(port);
    cleanups.push(() => void c3.destroy());
    const dev = openEnd(second.b);
    cleanups.push(() => dev.close());
    const got = collect(c3, 5);
    dev.stream.write('again');
    expect((await got).toString()).toBe('again');
    c3.destroy();
    await until(() => /disconnect .*client closed/.test(srv.stderr().split('device open').at(-1) ?? ''), 'the disconnect');
    await new Promise((r) => setTimeout(r, 200));
    expect(fdCount(pid)).toBe(fdsBefore);
  });
});

describe('bridge serve: a device that returns keeps the port’s configuration', () => {
  it('setportconfig before the loss still holds after the reopen (showport and the tty itself say 9600), as a ser2net port keeps its configuration', async () => {
    const first = await startPtyPair();
    cleanups.push(() => first.close());
    const srv = await startCli(['bridge', 'serve', first.a, '--listen', '127.0.0.1:0', '--no-lock', '--control', '127.0.0.1:0'], /listening on 127\.0\.0\.1:(\d+)\ncontrol: listening on 127\.0\.0\.1:(\d+)\n/);
    cleanups.push(() => stop(srv.proc));
    const port = Number(srv.match[1]);
    const ctl = await openControl(Number(srv.match[2]));
    cleanups.push(() => void ctl.destroy());
    expect(await ask(ctl, `setportconfig ${port} 9600 EVEN 7DATABITS`)).toBe('');
    expect(await ask(ctl, `showport ${port}`)).toMatch(/9600E71/);

    await first.hangup();
    await until(() => /device gone/.test(srv.stderr()), 'the "device gone" line');
    const second = await startPtyPair({ dir: first.dir });
    cleanups.push(() => second.close());
    await until(() => (srv.stderr().match(/device open/g) ?? []).length >= 2, 'the device to reopen');
    expect(srv.stderr().split('\n').filter((l) => /device open/.test(l)).at(-1)).toMatch(/device open$/);
    expect(await ask(ctl, `showport ${port}`)).toMatch(/9600E71/);
    const stty = await execa('stty', ['-F', second.a, 'speed']);
    expect(stty.stdout.trim()).toBe('9600');
  });
});
