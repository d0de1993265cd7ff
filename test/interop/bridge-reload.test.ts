/**
 * `bridge run CONFIG` on SIGHUP reloads like ser2net: ports added, removed and changed; the client of
 * an unchanged port keeps its session; a bad config keeps the running one and says why with
 * FILE:LINE:COL. Real process, real signals, real socat pty pairs, UUCP locks in a temp dir.
 */
import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bridgeRig, collect, connectTcp, laplink, rm, stop, waitUntil } from '../helpers/bridge.js';

const rig = bridgeRig();
const until = (cond: () => boolean, what: string) => waitUntil(cond, what, 20_000, 25);

describe('bridge run: SIGHUP reload', () => {
  it('adds, removes and restarts ports, keeps unchanged sessions, refuses a bad config with FILE:LINE:COL', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'laplink-reload-'));
    rig.cleanups.push(() => rm(dir));
    // Real /dev/pts paths, so every device has its own lock name (LCK..pts_N).
    const [d0, d1, d2] = await Promise.all([rig.pair(), rig.pair(), rig.pair()]);
    const dev = (p: { a: string }) => fs.realpathSync(p.a);
    const file = path.join(dir, 'bridge.yaml');
    const port = (name: string, device: string, extra = '') => `  - name: ${name}\n    device: ${device}\n    listen: 127.0.0.1:0\n${extra}`;
    const trace = path.join(dir, 'lab0.trace');
    const traced = `    trace: { write: ${trace} }\n`;
    fs.writeFileSync(file, `lockDir: ${dir}\nports:\n${port('lab0', dev(d0), traced)}${port('lab1', dev(d1))}`);

    const proc = execa('node', [laplink, 'bridge', 'run', file], { reject: false, buffer: false, stdout: 'pipe', stderr: 'pipe' });
    rig.cleanups.push(() => stop(proc));
    let out = '';
    let err = '';
    proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    proc.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    const tcpPort = (name: string) => {
      const all = [...out.matchAll(new RegExp(`^${name}: listening on 127\\.0\\.0\\.1:(\\d+)$`, 'gm'))];
      return all.length ? Number(all[all.length - 1]![1]) : undefined;
    };
    const locks = () => fs.readdirSync(dir).filter((f) => f.startsWith('LCK..')).sort();
    const lockOf = (p: { a: string }) => `LCK..${dev(p).slice('/dev/'.length).replace(/\//g, '_')}`;
    await until(() => tcpPort('lab0') !== undefined && tcpPort('lab1') !== undefined, 'both ports listening');
    expect(locks()).toEqual([lockOf(d0), lockOf(d1)].sort());

    // A session on lab0, proven both ways.
    const client = await connectTcp(tcpPort('lab0')!);
    rig.cleanups.push(() => void client.destroy());
    const end0 = rig.end(d0.b);
    const roundTrip = async (tag: string) => {
      const atDevice = collect(end0, tag.length);
      client.write(tag);
      expect((await atDevice).toString()).toBe(tag);
      const atClient = collect(client, tag.length + 1);
      end0.write(`${tag}!`);
      expect((await atClient).toString()).toBe(`${tag}!`);
    };
    await roundTrip('one');

    // lab1 removed, lab2 added, lab0 untouched; a rotator now hands clients to lab0 or lab2.
    const rotator = 'rotators:\n  - name: any\n    listen: 127.0.0.1:0\n    ports: [lab0, lab2]\n';
    fs.writeFileSync(file, `lockDir: ${dir}\nports:\n${port('lab0', dev(d0), traced)}${port('lab2', dev(d2))}${rotator}`);
    fs.renameSync(trace, `${trace}.1`); // logrotate, before the same SIGHUP
    proc.kill('SIGHUP');
    await until(() => /SIGHUP: reloaded/.test(err), 'the reload line');
    expect(err).toContain(`SIGHUP: reloaded ${file}: added lab2; removed lab1; kept lab0`);
    await until(() => tcpPort('lab2') !== undefined, 'lab2 listening');
    expect(locks()).toEqual([lockOf(d0), lockOf(d2)].sort());
    await roundTrip('two'); // the same TCP connection: the session survived the reload
    await until(() => fs.existsSync(trace) && fs.readFileSync(trace, 'latin1').includes('two'), "lab0's bytes in its reopened trace file");
    const rotated = fs.readFileSync(`${trace}.1`, 'latin1');
    expect(rotated).toContain('one');
    expect(rotated).not.toContain('two');

    // The rotator knows the ports as they are now: lab0 is busy, so its client lands on the new lab2.
    await until(() => tcpPort('any') !== undefined, 'the rotator listening');
    const viaRotator = await connectTcp(tcpPort('any')!);
    rig.cleanups.push(() => void viaRotator.destroy());
    const end2 = rig.end(d2.b);
    const atLab2 = collect(end2, 'rotated'.length);
    viaRotator.write('rotated');
    expect((await atLab2).toString()).toBe('rotated');
    viaRotator.destroy();

    // A bad config: two ports on one device. Nothing changes, the reason names file, line and column.
    fs.writeFileSync(file, `lockDir: ${dir}\nports:\n${port('lab0', dev(d0), traced)}${port('lab3', dev(d0))}${rotator}`);
    proc.kill('SIGHUP');
    await until(() => /keeping the running config/.test(err), 'the refusal line');
    expect(err).toContain(`laplink bridge: SIGHUP: keeping the running config: ${file}:8:13: ports[1].device: ${dev(d0)} is already served by ports[0]`);
    expect(locks()).toEqual([lockOf(d0), lockOf(d2)].sort());
    await roundTrip('three');

    // A changed port restarts: its client is let go, the new settings take the old name.
    fs.writeFileSync(file, `lockDir: ${dir}\nports:\n${port('lab0', dev(d0), `${traced}    speed: 9600\n`)}${port('lab2', dev(d2))}${rotator}`);
    const closed = new Promise<void>((r) => client.once('close', () => r()));
    proc.kill('SIGHUP');
    await closed;
    await until(() => /restarted lab0/.test(err), 'the restart line');
    expect(proc.exitCode).toBeNull();

    proc.kill('SIGTERM');
    expect((await proc).exitCode).toBe(0);
    expect(locks()).toEqual([]);
  });
});

describe('bridge run: config checks before listening', () => {
  it('rejects duplicate names, two ports on one device and unknown rotator ports with FILE:LINE:COL, exit 2', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'laplink-runcfg-'));
    rig.cleanups.push(() => rm(dir));
    const file = path.join(dir, 'bridge.yaml');
    fs.writeFileSync(
      file,
      [
        'ports:',
        '  - name: lab0',
        '    device: /dev/ttyS0',
        '    listen: 127.0.0.1:0',
        '  - name: lab0',
        '    device: /dev/ttyS1',
        '  - name: lab1',
        '    device: /dev/ttyS0',
        'rotators:',
        '  - name: any',
        '    listen: 127.0.0.1:0',
        '    ports: [lab0, lab9]',
        '',
      ].join('\n'),
    );
    const r = await execa('node', [laplink, 'bridge', 'run', file], { reject: false });
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe(''); // nothing listened
    expect(r.stderr.split('\n')).toEqual([
      `laplink: ${file}:5:11: ports[1].name: name "lab0" is already used by ports[0] (allowed: a name of its own)`,
      `laplink: ${file}:8:13: ports[2].device: /dev/ttyS0 is already served by ports[0] (allowed: one port per device; use maxConnections to share it)`,
      `laplink: ${file}:12:19: rotators[0].ports[1]: no port named "lab9" (allowed: lab0, lab1)`,
    ]);
  });
});
