import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkLink, deviceAccessReason } from '../../src/profile/check.js';
import { loadProfile } from '../../src/profile/load.js';
import { generateLink } from '../../src/render/generate.js';

/**
 * `check` against stand-in /proc and /sys trees (this kernel has no PPP, so the real ones can only
 * show the failing side; the CLI test covers that). /dev/null stands in for a device that is no tty.
 */
let dir: string;
const argv = ['/usr/bin/node', '/opt/laplink/bin/laplink.js'];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'laplink-check-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function profile(name: string, extra = '') {
  const path = join(dir, `${name}.yaml`);
  await writeFile(path, `name: ${name}\nrole: client\ndevice: /dev/null\nlocalIp: 10.0.0.2\nremoteIp: 10.0.0.1\nauth: { user: u, password: p }\n${extra}`);
  return path;
}

describe('check with a PPP-capable kernel tree', () => {
  it('reports kernel support ok when /proc/devices lists ppp and the modules are present', async () => {
    const proc = join(dir, 'proc');
    const sys = join(dir, 'sys');
    await mkdir(proc);
    await mkdir(join(sys, 'module/ppp_generic'), { recursive: true });
    await mkdir(join(sys, 'module/ppp_async'), { recursive: true });
    await writeFile(join(proc, 'devices'), 'Character devices:\n  1 mem\n108 ppp\n\nBlock devices:\n  8 sd\n');
    const dev = join(dir, 'dev');
    await mkdir(dev);
    await writeFile(join(dev, 'ppp'), ''); // a regular file is not the device node
    const root = join(dir, 'root');
    const p = await profile('k1');
    await generateLink(p, { root, laplinkArgv: argv });
    const r = await checkLink(await loadProfile(p), { root, procDir: proc, sysDir: sys, devDir: dev, lockDir: dir, laplinkArgv: argv });
    const by = Object.fromEntries(r.map((x) => [x.what + (x.what === 'kernel module' ? x.detail.split(' ')[0] : ''), x.level]));
    expect(by).toMatchObject({
      'kernel PPP': 'ok',
      'kernel moduleppp_generic': 'ok',
      'kernel moduleppp_async': 'ok',
      '/dev/ppp': 'FAIL',
      device: 'FAIL',
      permissions: 'ok',
      'generated files': 'ok',
      'tty options': 'ok',
    });
    expect(r.find((x) => x.what === 'device')!.detail).toBe('/dev/null is not a tty');
  });

  it('warns when another link on the same tty sets different line options', async () => {
    const root = join(dir, 'root');
    await generateLink(await profile('a'), { root, laplinkArgv: argv });
    await generateLink(await profile('b', 'speed: 9600\n'), { root, laplinkArgv: argv });
    const r = await checkLink(await loadProfile(join(dir, 'a.yaml')), { root, lockDir: dir, laplinkArgv: argv });
    expect(r.find((x) => x.what === 'tty options')).toMatchObject({ level: 'warn', detail: expect.stringMatching(/different line settings of b;/) });
  });

  it('says which generated files are missing or out of date', async () => {
    const root = join(dir, 'root');
    const p = await profile('c');
    await generateLink(p, { root, laplinkArgv: argv });
    await writeFile(p, (await import('node:fs')).readFileSync(p, 'utf8') + 'mtu: 576\n');
    const r = await checkLink(await loadProfile(p), { root, lockDir: dir, laplinkArgv: argv });
    expect(r.find((x) => x.what === 'generated files')).toMatchObject({ level: 'warn', detail: expect.stringMatching(/peers\/c out of date, .*ip-up\.d\/laplink-c out of date \(run laplink generate\)$/) });
  });
});

describe('check and a device in use', () => {
  it('does not open a device whose lock is held by a live process', async () => {
    const p = await profile('busy');
    const locks = join(dir, 'locks');
    await mkdir(locks);
    await writeFile(join(locks, 'LCK..null'), `${String(process.pid).padStart(10)}\n`);
    const r = await checkLink(await loadProfile(p), { root: join(dir, 'root'), lockDir: locks, laplinkArgv: argv });
    // /dev/null would FAIL as "not a tty" if it were opened
    expect(r.find((x) => x.what === 'device')).toEqual({ level: 'ok', what: 'device', detail: '/dev/null is in use (locked), not opened' });
    expect(r.find((x) => x.what === 'lock')).toMatchObject({ level: 'warn', detail: expect.stringMatching(`in use by pid ${process.pid}`) });
  });

  it('reads a lock file that is a FIFO or a symlink as a warning naming it, without blocking on it', async () => {
    const p = await profile('fifo');
    const locks = join(dir, 'locks');
    await mkdir(locks);
    execFileSync('mkfifo', [join(locks, 'LCK..null')]);
    const r = await checkLink(await loadProfile(p), { root: join(dir, 'root'), lockDir: locks, laplinkArgv: argv });
    expect(r.find((x) => x.what === 'lock')).toEqual({ level: 'warn', what: 'lock', detail: `${join(locks, 'LCK..null')}: is a FIFO, not a regular file; not read; remove it if no program uses /dev/null` });
    await rm(join(locks, 'LCK..null'));
    await symlink('/dev/zero', join(locks, 'LCK..null'));
    const r2 = await checkLink(await loadProfile(p), { root: join(dir, 'root'), lockDir: locks, laplinkArgv: argv });
    expect(r2.find((x) => x.what === 'lock')?.detail).toBe(`${join(locks, 'LCK..null')}: is a symbolic link, not a regular file; not read; remove it if no program uses /dev/null`);
  });
});

describe('check and generate on what cannot work', () => {
  it('a passwordFile that is not there is a FAIL, and generate refuses to write @FILE for it', async () => {
    const root = join(dir, 'root');
    const p = await profile('pf', '').then(async (path) => {
      await writeFile(path, (await import('node:fs')).readFileSync(path, 'utf8').replace('auth: { user: u, password: p }', 'auth: { user: u, passwordFile: /etc/laplink/u.secret }'));
      return path;
    });
    await expect(generateLink(p, { root, laplinkArgv: argv })).rejects.toThrow(/^auth\.passwordFile: .*\/etc\/laplink\/u\.secret: no such file or directory; pppd would read an empty secret/);
    expect((await import('node:fs')).existsSync(join(root, 'etc/ppp/pap-secrets')), 'nothing written').toBe(false);
    const before = await checkLink(await loadProfile(p), { root, lockDir: dir, laplinkArgv: argv });
    expect(before.find((x) => x.what === 'auth.passwordFile')).toMatchObject({ level: 'FAIL', detail: expect.stringContaining('u.secret: no such file or directory') });
    await mkdir(join(root, 'etc/laplink'), { recursive: true });
    await writeFile(join(root, 'etc/laplink/u.secret'), 'secret\n', { mode: 0o600 });
    await generateLink(p, { root, laplinkArgv: argv });
    const after = await checkLink(await loadProfile(p), { root, lockDir: dir, laplinkArgv: argv });
    expect(after.find((x) => x.what === 'auth.passwordFile')).toMatchObject({ level: 'ok' });
  });

  async function server(name: string, device: string, remoteIp: string) {
    const path = join(dir, `${name}.yaml`);
    await writeFile(path, `name: ${name}\nrole: server\ndevice: ${device}\nlocalIp: 10.0.0.1\nremoteIp: ${remoteIp}\nauth: { users: [{ name: laplink, password: s3cret-one }] }\n`);
    return path;
  }

  it('the same user name in two links with different addresses is a FAIL naming both links', async () => {
    const root = join(dir, 'root');
    await generateLink(await server('east', '/dev/null', '10.0.0.2'), { root, laplinkArgv: argv });
    const west = await server('west', '/dev/zero', '10.0.1.2');
    await generateLink(west, { root, laplinkArgv: argv });
    const r = await checkLink(await loadProfile(west), { root, lockDir: dir, laplinkArgv: argv });
    const shared = r.filter((x) => x.what === 'secrets');
    expect(shared).toEqual([expect.objectContaining({ level: 'FAIL', detail: expect.stringMatching(/pap-secrets: links west and east both list user laplink \(addresses 10\.0\.1\.2 here, 10\.0\.0\.2 there\)/) })]);
    expect(JSON.stringify(r)).not.toContain('s3cret-one');
    // the same user with the same address and secret (one client, two alternative links) is fine
    const r2 = await checkLink(await loadProfile(await server('east2', '/dev/null', '10.0.0.2')), { root, lockDir: dir, laplinkArgv: argv });
    expect(r2.filter((x) => x.what === 'secrets' && x.detail.includes('east2 and east '))).toEqual([]);
  });

  it('a server and a client link on the same tty is a FAIL naming both', async () => {
    const root = join(dir, 'root');
    await generateLink(await server('srv', '/dev/null', '10.0.0.2'), { root, laplinkArgv: argv });
    const c = await profile('cli');
    await generateLink(c, { root, laplinkArgv: argv });
    const r = await checkLink(await loadProfile(c), { root, lockDir: dir, laplinkArgv: argv });
    expect(r.find((x) => x.what === 'tty')).toMatchObject({ level: 'FAIL', detail: expect.stringMatching(/^client link cli and server link srv both use \/dev\/null/) });
  });

  it('a device nobody but its owner may open is not blamed on group dialout', () => {
    expect(deviceAccessReason(0o20600, 'root', 'root', 'alice')).toBe('mode 0600 root:root: only root may open it (run laplink as root, or give the device a group, e.g. a udev rule with GROUP="dialout", MODE="0660")');
    expect(deviceAccessReason(0o20660, 'root', 'dialout', 'alice')).toBe('mode 0660 root:dialout: only root or group dialout may open it (adduser alice dialout, then log in again)');
  });
});
