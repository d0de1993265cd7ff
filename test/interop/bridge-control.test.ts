/** The control port, `bridge run CONFIG` with several ports and a rotator, and config errors — on socat pty pairs. */
import { execa } from 'execa';
import fs from 'node:fs';
import type net from 'node:net';
import { describe, expect, it } from 'vitest';
import { ask, bridgeRig, collect, connectTcp, laplink, openControl, openEnd, rm, startCli, stop } from '../helpers/bridge.js';

const { cleanups, pair } = bridgeRig();

/** A `bridge run` config file holding `text`, in a directory removed after the test. */
function configFile(text: string, name = 'bridge.yaml'): { file: string; dir: string } {
  const dir = fs.mkdtempSync('/tmp/laplink-cfg-');
  cleanups.push(() => rm(dir));
  const file = `${dir}/${name}`;
  fs.writeFileSync(file, text);
  return { file, dir };
}

async function control(port: number): Promise<net.Socket> {
  const s = await openControl(port);
  cleanups.push(() => void s.destroy());
  return s;
}

describe('bridge control port', () => {
  it('shows ports, changes config, timeout, enable state, monitors, disconnects', async () => {
    const p = await pair();
    const srv = await startCli(['bridge', 'serve', p.a, '--listen', '127.0.0.1:0', '--no-lock', '--control', '127.0.0.1:0'], /control: listening on 127\.0\.0\.1:(\d+)\n/);
    cleanups.push(() => stop(srv.proc));
    const dataPort = Number(/^listening on 127\.0\.0\.1:(\d+)$/m.exec(srv.match.input)![1]);
    const ctl = await control(Number(srv.match[1]));
    const dev = openEnd(p.b);
    cleanups.push(() => dev.close());

    expect(await ask(ctl, 'showport')).toMatch(new RegExp(`TCP port ${dataPort}\\r\\n  enable state: raw\\r\\n  timeout: 0\\r\\n  connected to: not connected\\r\\n  name: ${p.a}\\r\\n  device: ${p.a}\\r\\n  device config: 115200N81 CLOCAL`));
    expect(await ask(ctl, 'setportconfig ' + dataPort + ' 9600 2STOPBITS XONXOFF')).toBe('');
    const st = (await execa('stty', ['-F', p.a, '-a'])).stdout;
    expect(st).toMatch(/speed 9600 baud/);
    expect(st).toMatch(/(^|\s)cstopb/);
    expect(await ask(ctl, `setportconfig ${dataPort} 9600 BOGUS`)).toBe('Invalid port config: BOGUS\r\n');
    expect(await ask(ctl, `setporttimeout ${dataPort} 30`)).toBe('');
    expect(await ask(ctl, `showshortport ${dataPort}`)).toMatch(new RegExp(`\\r\\n${dataPort} +raw +30 +unconnected`));
    expect(await ask(ctl, 'frobnicate')).toBe('Unknown command: frobnicate\r\n');
    expect(await ask(ctl, 'showport 1')).toBe('Invalid port number: 1\r\n');

    const client = await connectTcp(dataPort);
    const clientClosed = new Promise<void>((r) => client.on('close', () => r()));
    await new Promise((r) => setTimeout(r, 100));
    expect(await ask(ctl, `monitor tcp ${dataPort}`)).toBe('');
    const seen = collect(ctl, 6);
    client.write('abcdef');
    expect((await seen).toString()).toBe('abcdef');
    expect(await ask(ctl, 'monitor stop')).toBe('');
    expect(await ask(ctl, `disconnect ${dataPort}`)).toBe('');
    await clientClosed;
    expect(await ask(ctl, `setportenable ${dataPort} off`)).toBe('');
    const refused = await connectTcp(dataPort);
    expect((await collect(refused, 15)).toString()).toBe('Port disabled\r\n');
    // counted over the port's life: the refusal by kind, and the bytes of the client that has gone
    expect(await ask(ctl, `showport ${dataPort}`)).toMatch(/\r\n  refused: not_allowed=0 disabled=1 unavailable=0 in_use=0 tls=0\r\n  dropped: too_slow=0 kicked=0 idle_timeout=0 device_gone=0\r\n  client bytes total: in=6 out=0\r\n  tls handshakes: ok=0 refused=0\r\n/);
    expect(await ask(ctl, `setportenable ${dataPort} telnet`)).toBe('');
    expect(await ask(ctl, `showport ${dataPort}`)).toMatch(/enable state: telnet/);
    expect(await ask(ctl, 'help')).toMatch(/setportenable <port> off\|raw\|telnet/);
  });
});

describe('setportconfig, as ser2net 3’s: the defaults, then the words', () => {
  it('a port with RTS/CTS, CLOCAL off and HUPCL on, given a default port’s device config, ends as the default port, on the tty too', async () => {
    const plain = await pair();
    const odd = await pair();
    const { file } = configFile(`lock: false\ncontrol: 127.0.0.1:0\nports:\n  - { name: plain, device: ${plain.a}, listen: 0 }\n  - { name: odd, device: ${odd.a}, listen: 0, speed: 9600, flow: rtscts, local: false, hupcl: true }\n`);
    const r = await startCli(['bridge', 'run', file], /control: listening on 127\.0\.0\.1:(\d+)\n/);
    cleanups.push(() => stop(r.proc));
    const ctl = await control(Number(r.match[1]));
    const deviceConfig = async (port: string) => /\r\n {2}device config: (.*?)\r\n/.exec(await ask(ctl, `showport ${port}`))?.[1];
    const tty = async (path: string) => (await execa('stty', ['-F', path, '-a'])).stdout;
    /** The speed and those of `flags` (`crtscts`, `-clocal`) that `stty -a` lists. */
    const ttyHas = async (path: string, flags: string[]) => {
      const text = await tty(path);
      const words = new Set(text.split(/[\s;]+/));
      return [/^speed \d+ baud/.exec(text)?.[0], ...flags.filter((w) => words.has(w))];
    };

    expect(await deviceConfig('odd')).toBe('9600N81 RTSCTS -CLOCAL HANGUP_WHEN_DONE');
    const oddFlags = ['crtscts', 'hupcl', '-clocal'];
    expect(await ttyHas(odd.a, oddFlags)).toEqual(['speed 9600 baud', ...oddFlags]);
    const shown = await deviceConfig('plain');
    expect(shown).toBe('115200N81 CLOCAL');
    expect(await ask(ctl, `setportconfig odd ${shown}`)).toBe('');
    expect(await deviceConfig('odd')).toBe(shown);
    // the tty itself, as stty reads it, is the plain one's (a pty holds these flags, not parity or size)
    expect(await tty(odd.a)).toBe(await tty(plain.a));
    const plainFlags = ['-crtscts', '-hupcl', 'clocal'];
    expect(await ttyHas(odd.a, plainFlags)).toEqual(['speed 115200 baud', ...plainFlags]);

    // what the words say wins; an invalid word refuses the line and leaves the port as it was
    expect(await ask(ctl, 'setportconfig odd 9600 2STOPBITS RTSCTS')).toBe('');
    expect(await deviceConfig('odd')).toBe('9600N82 RTSCTS CLOCAL');
    const before = await tty(odd.a);
    expect(await ask(ctl, 'setportconfig odd 57600 -LOCAL XONXOFF BOGUS')).toBe('Invalid port config: BOGUS\r\n');
    expect(await ask(ctl, 'setportconfig odd')).toBe('No device config\r\n');
    expect(await deviceConfig('odd')).toBe('9600N82 RTSCTS CLOCAL');
    expect(await tty(odd.a)).toBe(before);
  });
});

describe('bridge run CONFIG', () => {
  it('serves two ports from one process and a rotator hands clients to the first free one', async () => {
    const p1 = await pair();
    const p2 = await pair();
    const { file } = configFile(
      `lock: false
ports:
  - name: one
    device: ${p1.a}
    listen: 0
  - name: two
    device: ${p2.a}
    speed: 9600
rotators:
  - name: rot
    listen: 127.0.0.1:0
    ports: [one, two]
`,
    );
    const r = await startCli(['bridge', 'run', file], /rot: listening on 127\.0\.0\.1:(\d+)\n/);
    cleanups.push(() => stop(r.proc));
    expect(r.match.input).toMatch(/^one: listening on 127\.0\.0\.1:\d+$/m);
    expect((await execa('stty', ['-F', p2.a, 'speed'])).stdout.trim()).toBe('9600');
    const rot = Number(r.match[1]);
    const d1 = openEnd(p1.b);
    const d2 = openEnd(p2.b);
    cleanups.push(() => d1.close(), () => d2.close());
    const c1 = await connectTcp(rot);
    const c2 = await connectTcp(rot);
    const c3 = await connectTcp(rot);
    cleanups.push(() => void c1.destroy(), () => void c2.destroy());
    expect((await collect(c3, 17)).toString()).toBe('All ports in use\r\n');
    const g1 = collect(d1.stream, 2);
    const g2 = collect(d2.stream, 2);
    c1.write('c1');
    c2.write('c2');
    expect((await g1).toString()).toBe('c1');
    expect((await g2).toString()).toBe('c2');
  });

  it('reports config errors as FILE:LINE:COL: field: message with status 2', async () => {
    const { file, dir } = configFile('ports:\n  - name: one\n    device: /dev/null\n    parity: sometimes\n', 'bad.yaml');
    const r = await execa('node', [laplink, 'bridge', 'run', file], { reject: false });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`${file}:4:13: ports\\[0\\]\\.parity: not an allowed value \\(allowed: none, even, odd, mark, space\\)`));
    expect(r.stderr).not.toMatch(/\n\s+at /);
    // The config is loaded in a worker thread; a file it cannot read still comes back as a usage error.
    const missing = await execa('node', [laplink, 'bridge', 'run', `${dir}/none.yaml`], { reject: false });
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toBe(`laplink: ${dir}/none.yaml: cannot read: no such file or directory`);
  });
});
