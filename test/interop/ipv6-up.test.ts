/**
 * The generated /etc/ppp/ipv6-up.d script under the real run-parts (as Debian's /etc/ppp/ipv6-up
 * calls it) and the real `ip`, on the loopback interface of a fresh network namespace
 * (`unshare -n`): this kernel has no PPP, so no ppp0 exists here; the lab runs it on a real ppp0.
 */
import { execa } from 'execa';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLink } from '../../src/render/generate.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'laplink-ipv6up-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ipv6-up.d script', () => {
  it('run-parts runs it; it adds PREFIX::localId/64 for its own link only', async () => {
    const profile = join(dir, 'v6.yaml');
    await writeFile(profile, "name: v6link\nrole: server\ndevice: /dev/ttyS0\nlocalIp: 192.168.7.1\nremoteIp: 192.168.7.2\nauth: { require: none }\nsystemd: false\nipv6: { localId: '::1', remoteId: '::2', prefix: 'fd00:7::/64' }\n");
    await generateLink(profile, { root: dir, laplinkArgv: ['/usr/bin/node', '/opt/laplink/bin/laplink.js'] });
    const upDir = join(dir, 'etc/ppp/ipv6-up.d');
    // run-parts skips names it does not like (dots): --test lists what it would run
    expect((await execa('run-parts', ['--test', upDir])).stdout).toBe(join(upDir, 'laplink-v6link'));
    // as /etc/ppp/ipv6-up does: run-parts DIR --arg=IFACE --arg=TTY --arg=SPEED --arg=LOCAL --arg=REMOTE --arg=IPPARAM
    const inNamespace = (linkname: string) =>
      execa('unshare', ['-n', 'sh', '-c', `ip link set lo up && LINKNAME=${linkname} run-parts ${upDir} --arg=lo --arg=/dev/ttyS0 --arg=115200 --arg=fe80::1 --arg=fe80::2 --arg= && ip -6 -o addr show dev lo`], { reject: false });
    const own = await inNamespace('v6link');
    expect(own.stderr).toBe('');
    expect(own.stdout).toMatch(/inet6 fd00:7::1\/64 scope global/);
    const other = await inNamespace('another-link');
    expect(other.exitCode).toBe(0);
    expect(other.stdout).not.toContain('fd00:7::');
  });
});
