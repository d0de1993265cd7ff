import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProfile, parseProfile } from '../../src/profile/load.js';
import { ConfigError } from '../../src/errors.js';

const base = `name: t1
role: server
device: /dev/ttyS1
localIp: 192.168.7.1
remoteIp: 192.168.7.2
auth:
  users:
    - name: zaphod
      password: gargleBlaster
`;

function problems(text: string): string[] {
  try {
    parseProfile(text, 'p.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).exitCode).toBe(2);
    return (err as ConfigError).problems;
  }
  throw new Error('profile was accepted');
}

describe('profile loading', () => {
  it('loads every lab profile with defaults filled in', async () => {
    const dir = join(import.meta.dirname, '../../lab/profiles');
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const f of files) {
      const { profile, path } = await loadProfile(join(dir, f));
      expect(path).toBe(join(dir, f));
      expect(profile.speed).toBe(115200);
      expect(profile.handshake.timeout).toBe(45);
    }
  });

  it('fills defaults', () => {
    const p = parseProfile(base);
    expect(p).toMatchObject({ peer: 'linux', flow: 'none', modemLines: false, speed: 115200, systemd: true, inittab: false });
    expect(p.auth.require).toBe('pap');
  });

  it('names file, line, column, field and what is allowed', () => {
    const out = problems(base.replace('role: server', 'role: king'));
    expect(out).toEqual(['p.yaml:2:7: role: not an allowed value (allowed: server, client)']);
  });

  it('points an unknown field at its key and lists the known ones', () => {
    const out = problems(`${base}colour: blue\n`);
    expect(out[0]).toMatch(/^p\.yaml:10:1: colour: unknown field \(allowed: name, role, peer, device/);
  });

  it('points a missing field at its parent', () => {
    const out = problems(base.replace('remoteIp: 192.168.7.2\n', ''));
    expect(out).toEqual(['p.yaml:1:1: remoteIp: required field is missing (allowed: a string)']);
  });

  it('reports every problem at once', () => {
    const out = problems(base.replace('speed', 'x').replace('/dev/ttyS1', '/dev/../etc/passwd').replace('192.168.7.2', '300.1.1.1'));
    expect(out).toHaveLength(2);
    expect(out[0]).toMatch(/^p\.yaml:3:9: device: /);
    expect(out[1]).toMatch(/^p\.yaml:5:11: remoteIp: /);
  });

  it('applies cross-field rules at the field to change', () => {
    expect(problems(base.replace('192.168.7.2', '192.168.7.1'))).toEqual([
      'p.yaml:5:11: remoteIp: must differ from localIp (allowed: the other end of the link)',
    ]);
    expect(problems(`${base}bridge: 127.0.0.1:4000\n`)[0]).toMatch(/^p\.yaml:10:9: bridge: give either device or bridge/);
    expect(problems(`${base}defaultRoute: true\n`)[0]).toMatch(/^p\.yaml:10:15: defaultRoute: only a client/);
    expect(problems(base.replace('      password: gargleBlaster\n', ''))[0]).toMatch(/^p\.yaml:8:7: auth\.users\[0\]\.password: required unless auth\.login/);
    const client = 'name: c\nrole: client\ndevice: /dev/ttyS0\nlocalIp: 10.0.0.2\nremoteIp: 10.0.0.1\nauth:\n  password: x y\n';
    expect(problems(client)[0]).toMatch(/^p\.yaml:7:3: auth\.user: required with a password/);
    expect(problems(`${client}masquerade: { outInterface: eth0 }\n`).join('\n')).toMatch(/masquerade: only a server/);
  });

  it('never echoes a secret in a message', () => {
    const out = problems(base.replace('gargleBlaster', '"garg\\nleBlaster"'));
    expect(out[0]).toMatch(/^p\.yaml:9:17: auth\.users\[0\]\.password: password contains a control character/);
    expect(out.join('\n')).not.toMatch(/garg/);
  });

  it('refuses a file over 64 KiB before parsing it', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const dir = await mkdtemp(join((await import('node:os')).tmpdir(), 'laplink-big-'));
    const big = join(dir, 'big.yaml');
    await writeFile(big, `${base}# ${'x'.repeat(70_000)}\n`);
    await expect(loadProfile(big)).rejects.toThrow(/big\.yaml:1:1: file is 70\d{3} bytes \(allowed: at most 65536\)/);
    await rm(dir, { recursive: true });
  });

  it('refuses a FIFO and a symlink to /dev/zero by type, without blocking or reading them; follows a symlink to a profile', async () => {
    const { mkdtemp, writeFile, rm, symlink } = await import('node:fs/promises');
    const { execFileSync } = await import('node:child_process');
    const dir = await mkdtemp(join((await import('node:os')).tmpdir(), 'laplink-fifo-'));
    execFileSync('mkfifo', [join(dir, 'fifo.yaml')]);
    await expect(loadProfile(join(dir, 'fifo.yaml'))).rejects.toThrow(/fifo\.yaml: cannot read: is a FIFO, not a regular file; not read$/);
    await symlink('/dev/zero', join(dir, 'zero.yaml'));
    await expect(loadProfile(join(dir, 'zero.yaml'))).rejects.toThrow(/zero\.yaml: cannot read: is a character device, not a regular file; not read$/);
    await writeFile(join(dir, 'real.yaml'), base);
    await symlink(join(dir, 'real.yaml'), join(dir, 'link.yaml'));
    expect((await loadProfile(join(dir, 'link.yaml'))).profile.name).toBe(parseProfile(base).name);
    await rm(dir, { recursive: true });
  });

  it('reports an unreadable file as a ConfigError', async () => {
    await expect(loadProfile('/nonexistent/profile.yaml')).rejects.toThrow(/^\/nonexistent\/profile\.yaml: cannot read: no such file or directory$/);
  });

  it('an empty file (or only comments) says it is empty, in one problem', () => {
    expect(problems('')).toEqual(['p.yaml:1:1: the file is empty (allowed: a mapping of fields, e.g. what laplink init writes)']);
    expect(problems('# nothing yet\n\n')).toEqual(['p.yaml:1:1: the file is empty (allowed: a mapping of fields, e.g. what laplink init writes)']);
  });

  it('a missing role is missing, not a wrong value', () => {
    expect(problems(base.replace('role: server\n', ''))).toEqual(['p.yaml:1:1: role: required field is missing (allowed: server, client)']);
  });

  it('lists problems in the order of the file, each on its own line, with did-you-mean for swapped letters', () => {
    const out = problems(base.replace('remoteIp: 192.168.7.2', 'remoteIp: 300.1.1.1').replace('name: t1\n', 'name: t1\nspede: 9600\n').replace('device: /dev/ttyS1', 'device: /dev/../x').concat('flwo: none\n'));
    expect(out.map((p) => /^p\.yaml:(\d+):/.exec(p)![1]).map(Number)).toEqual([2, 4, 6, 11]);
    expect(out[0]).toMatch(/^p\.yaml:2:1: spede: unknown field, did you mean speed\?/);
    expect(out[3]).toMatch(/^p\.yaml:11:1: flwo: unknown field, did you mean flow\?/);
  });
});
