/**
 * Our RFC 2217 client against real ser2net 4 (`telnet(rfc2217)` accepter, Debian package ser2net):
 * `bridge connect --protocol rfc2217 --pty LINK` offers the remote port as a local pty; a speed set on
 * that pty with stty reaches ser2net, which applies it to its device, where `stty -F` reads it back.
 */
import { execa, type ResultPromise } from 'execa';
import fs from 'node:fs';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { collect, laplink, openEnd, stop, waitUntil } from '../helpers/bridge.js';
import { startPtyPair } from '../helpers/ptypair.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups.length = 0;
});

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const until = (cond: () => boolean | Promise<boolean>, what: string) => waitUntil(cond, what, 20_000, 100);

const speedOf = async (p: string) => (await execa('stty', ['-F', p, 'speed'], { reject: false })).stdout.trim();

describe('bridge connect --protocol rfc2217 against ser2net 4', () => {
  it('offers the remote port as a pty, forwards stty speed changes, carries data both ways', async () => {
    const p = await startPtyPair();
    cleanups.push(() => p.close());
    const port = await freePort();
    const cfg = `${p.dir}/ser2net.yaml`;
    fs.writeFileSync(
      cfg,
      `%YAML 1.1
---
connection: &con0
    accepter: telnet(rfc2217),tcp,127.0.0.1,${port}
    enable: on
    connector: serialdev,${p.a},115200n81,local
`,
    );
    const ser2net: ResultPromise = execa('ser2net', ['-n', '-d', '-c', cfg], { reject: false, buffer: false });
    cleanups.push(() => stop(ser2net));
    await until(
      () =>
        new Promise<boolean>((r) => {
          const s = net.connect(port, '127.0.0.1', () => (s.destroy(), r(true)));
          s.on('error', () => r(false));
        }),
      'ser2net to listen (is ser2net installed?)',
    );
    const link = `${p.dir}/ttyRFC`;
    let err = '';
    const client = execa('node', [laplink, 'bridge', 'connect', `127.0.0.1:${port}`, '--pty', link, '--protocol', 'rfc2217'], { reject: false, buffer: false, stderr: 'pipe' });
    client.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    cleanups.push(() => stop(client));
    await until(() => /server speed \d+/.test(err), 'the first speed reply from ser2net');

    await execa('stty', ['-F', link, '57600']);
    await until(async () => (await speedOf(p.a)) === '57600', `ser2net to set 57600 on ${p.a} (client log: ${err})`);
    expect(err).toMatch(/rfc2217: server speed 57600/);

    const dev = openEnd(p.b);
    const local = openEnd(link);
    cleanups.push(() => dev.close(), () => local.close());
    const up = collect(dev.stream, 11);
    local.stream.write('via-rfc2217');
    expect((await up).toString()).toBe('via-rfc2217');
    const down = collect(local.stream, 4);
    dev.stream.write(Buffer.from([0xff, 1, 0xff, 2]));
    expect([...(await down)]).toEqual([0xff, 1, 0xff, 2]);
  });
});
