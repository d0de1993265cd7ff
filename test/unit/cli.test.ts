import { execa } from 'execa';
import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('laplink CLI', () => {
  it('prints its version', async () => {
    const r = await execa('node', ['bin/laplink.js', '--version']);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('--version reads package.json only: it works beside package.json without any built module', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'laplink-version-'));
    try {
      await mkdir(join(dir, 'bin'));
      await copyFile('bin/laplink.js', join(dir, 'bin/laplink.js'));
      await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'ppp-laplink', version: '9.8.7', type: 'module' }));
      const r = await execa('node', [join(dir, 'bin/laplink.js'), '--version']);
      expect(r.stdout).toBe('9.8.7');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a bad flag is one line on stderr, status 2, no usage after it', async () => {
    for (const args of [['check', '--bogus', 'x.yaml'], ['generate'], ['--frob']]) {
      const r = await execa('node', ['bin/laplink.js', ...args], { reject: false });
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(r.stderr.trimEnd().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toMatch(/^laplink: (unknown option|missing required argument)/);
    }
  });

  it('profile problems: one prefixed line each, in the order of the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'laplink-problems-'));
    try {
      const profile = join(dir, 'p.yaml');
      await writeFile(profile, 'name: p\nrole: client\nspede: 9600\ndevice: /dev/ttyS0\nlocalIp: 10.0.0.2\nremoteIp: 10.0.0.2\n');
      const r = await execa('node', ['bin/laplink.js', 'check', profile], { reject: false });
      expect(r.exitCode).toBe(2);
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toBe(`laplink: ${profile}:3:1: spede: unknown field, did you mean speed? ${lines[0]!.slice(lines[0]!.indexOf('(allowed'))}`);
      expect(lines[1]).toMatch(new RegExp(`^laplink: ${profile}:6:11: remoteIp: must differ from localIp`));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects an unknown command with status 2 and one line', async () => {
    const r = await execa('node', ['bin/laplink.js', 'frobnicate'], { reject: false });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('check as a user who may not open the device or read the secrets says why, and nothing about changes', async () => {
    if (process.getuid?.() !== 0) throw new Error('this test drops from root to nobody with setpriv: run it as root');
    const dir = await mkdtemp(join(tmpdir(), 'laplink-check-user-'));
    try {
      await chmod(dir, 0o755);
      // profiles take devices under /dev only: an owner-only file there stands in for a root:root 0600 tty
      const device = `/dev/ttyLAPLINK${process.pid}`;
      await writeFile(device, '', { mode: 0o600 });
      const profile = join(dir, 'p.yaml');
      await writeFile(profile, `name: nr\nrole: client\ndevice: ${device}\nlocalIp: 10.0.0.2\nremoteIp: 10.0.0.1\nauth: { user: u, password: p }\n`, { mode: 0o644 });
      const root = join(dir, 'root');
      await execa('node', ['bin/laplink.js', 'generate', profile, '--root', root]);
      const r = await execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'node', 'bin/laplink.js', 'check', profile, '--root', root], { reject: false });
      expect(r.exitCode, r.stderr).toBe(1);
      expect(r.stdout).toMatch(/^FAIL device: .*ttyLAPLINK\d+: cannot open \(permission denied\): mode 0600 root:root: only root may open it/m);
      expect(r.stdout).not.toMatch(/or group dialout may open it/);
      expect(r.stdout).toMatch(/pap-secrets: permission denied \(only root may read it; run check as root\)$/m);
      expect(r.stdout + r.stderr).not.toMatch(/nothing was changed|EACCES/);
    } finally {
      await rm(dir, { recursive: true, force: true });
      await rm(`/dev/ttyLAPLINK${process.pid}`, { force: true });
    }
  });
});
