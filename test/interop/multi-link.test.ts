/**
 * Several links on one host (issue 16): two profiles generated into one --root, on two ttys, sharing
 * /etc/hosts and pap-secrets (beside an admin's own lines), each keep their own blocks; `remove` of
 * one leaves every byte of the other's files as it was. `status` shows both links, sorted, with a
 * summary line. Runs the built CLI (`npm test` builds first).
 */
import { execa } from 'execa';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeStateFile } from '../../src/pppd/state.js';
import { laplinkBin, removeDir, tempDir } from '../helpers/supervisor-harness.js';

let dir = '';
afterEach(async () => removeDir(dir));

const profile = (name: string, tty: string, n: number) => `name: ${name}
role: server
device: /dev/${tty}
localIp: 192.168.${n}.1
remoteIp: 192.168.${n}.2
hostnames: { local: ${name}-here, remote: ${name}-there }
auth:
  users:
    - { name: user-${name}, password: "pw ${name}" }
masquerade: { outInterface: eth0 }
ipv6: { localId: '::1', remoteId: '::2', prefix: 'fd00:${n}::/64' }
systemd: true
`;

/** Every file under root: relative path → bytes and mode. */
async function snapshot(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.set(relative(root, p), `${((await stat(p)).mode & 0o777).toString(8)} ${await readFile(p, 'utf8')}`);
    }
  };
  await walk(root);
  return out;
}

const laplink = (...args: string[]) => execa('node', [laplinkBin, ...args], { reject: false });

describe('two links generated into one root', () => {
  it('each keeps its own files and blocks; remove of one leaves the other byte for byte', async () => {
    dir = await tempDir('laplink-multi-');
    const root = join(dir, 'root');
    await mkdir(join(root, 'etc/ppp'), { recursive: true });
    const foreignHosts = '127.0.0.1\tlocalhost\n# the admin\'s own line\n10.0.0.9\tprinter';
    const foreignSecrets = '# admin\nalice\t*\t"alice pw"\t*\n';
    await writeFile(join(root, 'etc/hosts'), foreignHosts); // no final newline: kept as it is
    await writeFile(join(root, 'etc/ppp/pap-secrets'), foreignSecrets, { mode: 0o600 });
    for (const [name, tty, n] of [['link-a', 'ttyS0', 7], ['link-b', 'ttyS1', 8]] as const) {
      await writeFile(join(dir, `${name}.yaml`), profile(name, tty, n));
      const g = await laplink('generate', join(dir, `${name}.yaml`), '--root', root);
      expect(g.exitCode, g.stderr).toBe(0);
    }
    const both = await snapshot(root);
    const secrets = both.get('etc/ppp/pap-secrets')!;
    expect(secrets.startsWith(`600 ${foreignSecrets}`)).toBe(true);
    expect(secrets).toMatch(/# BEGIN ppp-laplink link-a\n[\s\S]*user-link-a[\s\S]*# END ppp-laplink link-a\n/);
    expect(secrets).toMatch(/# BEGIN ppp-laplink link-b\n[\s\S]*user-link-b[\s\S]*# END ppp-laplink link-b\n/);
    const hosts = both.get('etc/hosts')!;
    expect(hosts).toContain(foreignHosts);
    expect(hosts).toMatch(/192\.168\.7\.2\s+link-a-there/);
    expect(hosts).toMatch(/192\.168\.8\.2\s+link-b-there/);
    expect(both.get('etc/ppp/options.ttyS0')).toContain('# BEGIN ppp-laplink link-a');
    expect(both.get('etc/ppp/options.ttyS1')).toContain('# BEGIN ppp-laplink link-b');
    for (const f of ['etc/ppp/peers/link-a', 'etc/ppp/peers/link-b', 'etc/ppp/ipv6-up.d/laplink-link-a', 'etc/ppp/ipv6-up.d/laplink-link-b', 'etc/nftables.d/laplink-link-a.nft', 'etc/nftables.d/laplink-link-b.nft']) expect(both.has(f), f).toBe(true);

    const r = await laplink('remove', join(dir, 'link-a.yaml'), '--root', root);
    expect(r.exitCode, r.stderr).toBe(0);
    const after = await snapshot(root);
    for (const [path, content] of both) {
      if (path.includes('link-a') || path === 'etc/ppp/options.ttyS0') continue;
      if (path === 'etc/hosts' || path === 'etc/ppp/pap-secrets') continue;
      expect(after.get(path), path).toBe(content); // link-b's own files: byte for byte
    }
    for (const path of after.keys()) expect(path).not.toMatch(/link-a/);
    // shared files: link-a's block gone, link-b's block and the admin's lines exactly as they were
    const block = (text: string, name: string) => text.match(new RegExp(`# BEGIN ppp-laplink ${name}\\n[\\s\\S]*?# END ppp-laplink ${name}\\n?`))?.[0];
    for (const shared of ['etc/hosts', 'etc/ppp/pap-secrets']) {
      expect(after.get(shared)).not.toContain('link-a');
      expect(block(both.get(shared)!, 'link-b')).toContain('link-b');
      expect(block(after.get(shared)!, 'link-b')).toBe(block(both.get(shared)!, 'link-b'));
    }
    expect(after.get('etc/ppp/pap-secrets')!.startsWith(`600 ${foreignSecrets}`)).toBe(true);
    expect(after.get('etc/hosts')).toContain(foreignHosts);
  });
});

describe('status with several links', () => {
  it('one table sorted by name, and a summary line', async () => {
    dir = await tempDir('laplink-multi-');
    const stateDir = join(dir, 'state');
    const since = new Date().toISOString();
    // written out of order: the table sorts; both supervisors "alive" (this test process)
    await writeStateFile(stateDir, { name: 'zeta', state: 'backoff', since, supervisorPid: process.pid, restarts: 3, nextRetry: since });
    await writeStateFile(stateDir, { name: 'alpha', state: 'up', since, supervisorPid: process.pid, restarts: 0, iface: 'ppp0', localIp: '192.168.7.1', remoteIp: '192.168.7.2' });
    const r = await laplink('status', '--state-dir', stateDir);
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[1]).toMatch(/^alpha +up /);
    expect(lines[2]).toMatch(/^zeta +backoff /);
    expect(lines.at(-1)).toBe('2 links: 1 up, 1 backoff');
  });
});
