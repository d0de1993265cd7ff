import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkModule, DEFLATE, MPPE } from '../../src/profile/check-module.js';
import { parseProfile } from '../../src/profile/load.js';
import { renderProfile } from '../../src/render/render.js';

const base = 'name: c1\nrole: client\ndevice: /dev/ttyS0\nlocalIp: 10.0.0.2\nremoteIp: 10.0.0.1\n';
const argv = ['/usr/bin/node', '/opt/laplink/bin/laplink.js'];

/** The option lines of the generated peers file. */
function peers(extra = ''): string[] {
  const p = parseProfile(base + extra, 'c1.yaml');
  const f = renderProfile(p, { profilePath: '/etc/laplink/c1.yaml', laplinkArgv: argv }).find((x) => x.path === '/etc/ppp/peers/c1')!;
  return f.content.split('\n').filter((l) => l && !l.startsWith('#'));
}

describe('compression in the profile', () => {
  it('defaults to deflate (the measured choice), never offering BSD-Compress, VJ on', () => {
    const opts = peers();
    expect(opts).toContain('deflate 15');
    expect(opts).toContain('nobsdcomp');
    expect(opts).not.toContain('noccp');
    expect(opts).not.toContain('novj');
  });

  it('compression: none says noccp; vjCompression: false says novj', () => {
    const opts = peers('compression: none\nvjCompression: false\n');
    expect(opts).toContain('noccp');
    expect(opts).toContain('novj');
    expect(opts.filter((o) => /deflate|bsdcomp/.test(o))).toEqual([]);
  });

  it('refuses bsdcomp as a compression and in extraOptions, saying why', () => {
    expect(() => parseProfile(base + 'compression: bsdcomp\n', 'c1.yaml')).toThrow(/c1\.yaml:6:\d+: compression: .*deflate.*none/);
    for (const opt of ['bsdcomp 15', 'bsd-comp 15,15', 'bsdcomp']) {
      expect(() => parseProfile(`${base}extraOptions:\n  - ${opt}\n`, 'c1.yaml')).toThrow(/extraOptions\.0|extraOptions\[0\]/);
      expect(() => parseProfile(`${base}extraOptions:\n  - ${opt}\n`, 'c1.yaml')).toThrow(/loses sync on the first compressed frame/);
    }
    expect(() => parseProfile(`${base}extraOptions:\n  - noccp\n`, 'c1.yaml')).toThrow(/compression: none/);
  });
});

describe('check: kernel modules (ppp_deflate, ppp_mppe)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'laplink-deflate-'));
    for (const d of ['proc', 'sys/module', 'mods/kernel/drivers/net/ppp']) await mkdir(join(dir, d), { recursive: true });
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const check = (m = DEFLATE) => checkModule(m, { procDir: join(dir, 'proc'), sysDir: join(dir, 'sys'), modulesDir: join(dir, 'mods') });

  it('warns when the kernel has no ppp_deflate anywhere, saying what it costs', async () => {
    const r = await check();
    expect(r.level).toBe('warn');
    expect(r.detail).toMatch(/no ppp_deflate in this kernel.*uncompressed/);
  });

  it('is ok when loaded (sysfs or /proc/modules), built in, or a module on disk', async () => {
    await mkdir(join(dir, 'sys/module/ppp_deflate'));
    expect((await check()).detail).toMatch(/loaded/);
    await rm(join(dir, 'sys/module/ppp_deflate'), { recursive: true });
    await writeFile(join(dir, 'proc/modules'), 'ppp_deflate 16384 0 - Live 0x0\n');
    expect((await check()).level).toBe('ok');
    await rm(join(dir, 'proc/modules'));
    await writeFile(join(dir, 'mods/modules.builtin'), 'kernel/drivers/net/ppp/ppp_deflate.ko\n');
    expect((await check()).detail).toMatch(/built into/);
    await rm(join(dir, 'mods/modules.builtin'));
    await writeFile(join(dir, 'mods/kernel/drivers/net/ppp/ppp_deflate.ko.xz'), '');
    expect((await check()).detail).toMatch(/available .*ppp_deflate\.ko\.xz/);
  });

  it('ppp_mppe (encrypt:): fails without it (a required cipher ends every call), naming the fix', async () => {
    // ppp_deflate alone is not MPPE
    await writeFile(join(dir, 'mods/kernel/drivers/net/ppp/ppp_deflate.ko.xz'), '');
    const r = await check(MPPE);
    expect(r).toMatchObject({ level: 'FAIL', what: 'encryption' });
    expect(r.detail).toMatch(/no ppp_mppe in this kernel.*modprobe ppp_mppe, or set encrypt: none/);
  });

  it('ppp_mppe: ok when loaded, built in, or on disk', async () => {
    await writeFile(join(dir, 'proc/modules'), 'ppp_mppe 16384 0 - Live 0x0\n');
    expect((await check(MPPE)).detail).toMatch(/ppp_mppe loaded: MPPE is negotiated/);
    await rm(join(dir, 'proc/modules'));
    await writeFile(join(dir, 'mods/modules.builtin'), 'kernel/drivers/net/ppp/ppp_mppe.ko\n');
    expect((await check(MPPE)).detail).toMatch(/built into/);
    await rm(join(dir, 'mods/modules.builtin'));
    await writeFile(join(dir, 'mods/kernel/drivers/net/ppp/ppp_mppe.ko.zst'), '');
    expect((await check(MPPE)).detail).toMatch(/available .*ppp_mppe\.ko\.zst/);
  });
});
