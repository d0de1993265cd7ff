import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkLink } from '../../src/profile/check.js';
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
});
