import { execa } from 'execa';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockName } from '../../src/line/uucp-lock.js';
import { realpathSync } from 'node:fs';
import { startPtyPair, type PtyPair } from '../helpers/ptypair.js';

/** The CLI as a user runs it (needs a fresh `npm run build`; `npm test` does that). */
const bin = join(import.meta.dirname, '../../bin/laplink.js');
const laplink = (args: string[]) => execa('node', [bin, ...args], { reject: false, timeout: 30_000 });

let dir: string;
let cable: PtyPair | undefined;
let tty: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'laplink-cli-'));
  cable = await startPtyPair();
  tty = realpathSync(cable.a); // the /dev/pts/N name, as a real serial device would be named
});
afterAll(async () => {
  await cable?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('laplink init / generate / remove / check', () => {
  it('init writes a starter profile and refuses to overwrite it without --force', async () => {
    const out = join(dir, 'starter.yaml');
    const a = await laplink(['init', '--role', 'client', '--peer', 'windows', '--output', out]);
    expect(a.exitCode).toBe(0);
    expect(a.stdout).toBe(`created   ${out}`);
    // the profile stays where --output put it (generate records that path for the unit)
    expect(a.stderr).toBe(`next: edit ${out}, then run as root\n  laplink generate ${out}\n  systemctl enable --now laplink@windows-client`);
    expect(a.stderr).not.toContain('save it as');
    const printed = await execa('node', [bin, 'init', '--role', 'client'], { stripFinalNewline: false });
    expect(printed.stderr).toContain('save it as /etc/laplink/laplink-client.yaml');
    expect(printed.stdout.endsWith('\n'), 'the profile on stdout ends with a newline').toBe(true);
    expect(await readFile(out, 'utf8')).toMatch(/^role: client$/m);
    const b = await laplink(['init', '--role', 'server', '--output', out]);
    expect(b.exitCode).toBe(2);
    expect(b.stderr).toBe(`laplink: ${out} exists; not overwriting it without --force`);
    expect(await readFile(out, 'utf8')).toMatch(/^role: client$/m);
    const c = await laplink(['init', '--role', 'server', '--output', out, '--force']);
    expect(c.exitCode).toBe(0);
    expect(await readFile(out, 'utf8')).toMatch(/^role: server$/m);
    const g = await laplink(['generate', out, '--root', join(dir, 'starter-root'), '--dry-run']);
    expect(g.exitCode, g.stderr).toBe(0);
  });

  it('generate: dry run shows a diff without secrets, then writes, then reports unchanged; remove undoes it', async () => {
    const root = join(dir, 'root1');
    await mkdir(join(root, 'etc'), { recursive: true });
    await writeFile(join(root, 'etc/hosts'), '127.0.0.1 localhost\n');
    const profile = join(dir, 'p1.yaml');
    await writeFile(profile, `name: cli1\nrole: server\ndevice: ${tty}\nlocalIp: 192.168.7.1\nremoteIp: 192.168.7.2\nhostnames: { remote: the-client }\nauth:\n  users: [{ name: zaphod, password: "Sup3r Secret" }]\n`);
    const dry = await laplink(['generate', profile, '--root', root, '--dry-run']);
    expect(dry.exitCode).toBe(0);
    expect(dry.stdout).toContain('+++ /etc/ppp/peers/cli1');
    expect(dry.stdout).toContain('+192.168.7.2\tthe-client');
    expect(dry.stdout).toMatch(/^would be created +.*\/etc\/ppp\/peers\/cli1$/m);
    expect(dry.stdout).toMatch(/^would be updated +.*\/etc\/hosts$/m);
    expect(dry.stdout).toContain('(secrets file: 0 → 5 lines, contents not shown)');
    expect(dry.stdout).not.toContain('Sup3r');
    expect(await readdir(join(root, 'etc'))).toEqual(['hosts']);

    const first = await laplink(['generate', profile, '--root', root]);
    expect(first.exitCode).toBe(0);
    expect(first.stdout.split('\n').map((l) => l.split(/ +/)[0])).toEqual(['created', 'created', 'created', 'created', 'created', 'created', 'updated', 'created', 'created']);
    const second = await laplink(['generate', profile, '--root', root]);
    expect(second.stdout.split('\n').every((l) => l.startsWith('unchanged '))).toBe(true);

    const removed = await laplink(['remove', profile, '--root', root]);
    expect(removed.exitCode).toBe(0);
    expect(await readFile(join(root, 'etc/hosts'), 'utf8')).toBe('127.0.0.1 localhost\n');
    expect(await readdir(join(root, 'etc/ppp/peers'))).toEqual([]);
    // the last link gone, the shared template units go too: nothing of ppp-laplink is left
    expect(removed.stdout).toMatch(/^removed +.*\/etc\/systemd\/system\/laplink@\.service \(no link uses it any more\)$/m);
    expect(await readdir(join(root, 'etc/systemd/system'))).toEqual([]);
  });

  it('remove keeps the shared units while another link uses them; remove --all uninstalls every link and them', async () => {
    const root = join(dir, 'root-all');
    const write = async (name: string, device: string) => {
      const path = join(dir, `${name}.yaml`);
      await writeFile(path, `name: ${name}\nrole: client\ndevice: ${device}\nlocalIp: 10.0.0.2\nremoteIp: 10.0.0.1\n`);
      expect((await laplink(['generate', path, '--root', root])).exitCode).toBe(0);
      return path;
    };
    const one = await write('all1', '/dev/ttyS0');
    await write('all2', '/dev/ttyS1');
    await write('all3', '/dev/ttyS2');
    const first = await laplink(['remove', one, '--root', root]);
    expect(first.stdout).toMatch(/^kept +.*\/laplink@\.service \(shared by every link\)$/m);
    const dry = await laplink(['remove', '--all', '--root', root, '--dry-run']);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^would be removed +.*\/etc\/ppp\/peers\/all2$/m);
    expect(dry.stdout).toMatch(/^would be removed +.*\/etc\/ppp\/peers\/all3$/m);
    expect(dry.stdout).toMatch(/^would be removed +.*\/laplink-bridge@\.service \(no link uses it any more\)$/m);
    expect((await readdir(join(root, 'etc/ppp/peers'))).sort()).toEqual(['all2', 'all3']);
    // a link whose profile is gone cannot say which files are its own: nothing is removed
    const third = join(dir, 'all3.yaml');
    const kept = await readFile(third, 'utf8');
    await rm(third);
    const refused = await laplink(['remove', '--all', '--root', root]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/^laplink: link all3: .*all3\.yaml: cannot read: no such file or directory; nothing was removed/);
    expect((await readdir(join(root, 'etc/ppp/peers'))).sort()).toEqual(['all2', 'all3']);
    await writeFile(third, kept);
    // nor can a link whose drop-in is not a file (a FIFO is never read): one line naming it
    const dropIn = join(root, 'etc/systemd/system/laplink@all2.service.d/profile.conf');
    const dropInText = await readFile(dropIn, 'utf8');
    await rm(dropIn);
    await execa('mkfifo', [dropIn]);
    const fifo = await laplink(['remove', '--all', '--root', root]);
    expect(fifo.exitCode).toBe(2);
    expect(fifo.stderr).toBe(`laplink: link all2: ${dropIn}: is a FIFO, not a regular file; not read; nothing was removed (generate it again, or laplink remove the others one by one)`);
    expect((await readdir(join(root, 'etc/ppp/peers'))).sort()).toEqual(['all2', 'all3']);
    await rm(dropIn);
    await writeFile(dropIn, dropInText);
    const all = await laplink(['remove', '--all', '--root', root]);
    expect(all.exitCode, all.stderr).toBe(0);
    expect(await readdir(join(root, 'etc/ppp/peers'))).toEqual([]);
    expect(await readdir(join(root, 'etc/systemd/system'))).toEqual([]);
    const again = await laplink(['remove', '--all', '--root', root]);
    expect(again.stdout).toBe(`nothing to remove: no link generated under ${root}/`);
    const both = await laplink(['remove', one, '--all', '--root', root]);
    expect(both.exitCode).toBe(2);
    expect(both.stderr).toBe('laplink: give a profile or --all, not both');
  });

  it('generate rejects a bad profile with exit 2, one line per problem, and writes nothing', async () => {
    const root = join(dir, 'root2');
    const profile = join(dir, 'bad.yaml');
    await writeFile(profile, 'name: bad\nrole: server\ndevice: /dev/ttyS0\nlocalIp: 192.168.7.1\nremoteIp: 192.168.7.2\nauth:\n  users: [{ name: "-x", password: "a\\nb" }]\nextraOptions: ["connect /bin/sh"]\n');
    const r = await laplink(['generate', profile, '--root', root]);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.split('\n');
    expect(lines).toEqual([
      expect.stringMatching(new RegExp(`^laplink: ${profile}:7:19: auth\\.users\\[0\\]\\.name: user name must be one word`)),
      expect.stringMatching(new RegExp(`^laplink: ${profile}:7:35: auth\\.users\\[0\\]\\.password: password contains a control character`)),
      expect.stringMatching(new RegExp(`^laplink: ${profile}:8:16: extraOptions\\[0\\]: option "connect" is not allowed`)),
    ]);
    await expect(readdir(root)).rejects.toThrow(/ENOENT/);
  });

  it('check prints one line per check and exits 1 on a FAIL (no kernel PPP here), flags 0644 secrets and stale locks', async () => {
    const root = join(dir, 'root3');
    const locks = join(dir, 'locks');
    await mkdir(locks);
    const profile = join(dir, 'p3.yaml');
    await writeFile(profile, `name: cli3\nrole: client\ndevice: ${tty}\nlocalIp: 192.168.7.2\nremoteIp: 192.168.7.1\nauth: { user: u, password: p }\n`);
    const before = await laplink(['check', profile, '--root', root, '--lock-dir', locks]);
    expect(before.stdout).toMatch(/^warn generated files: .*pap-secrets missing.*\(run laplink generate\)$/m);
    await laplink(['generate', profile, '--root', root]);
    await chmod(join(root, 'etc/ppp/pap-secrets'), 0o644);
    // a lock left by a process that no longer exists
    const sub = execa('true');
    const deadPid = sub.pid!;
    await sub;
    // named as pppd's `lock` names it (/dev/pts/N → LCK..pts_N), so check and pppd look at one file
    await writeFile(join(locks, lockName(tty)), `${String(deadPid).padStart(10)}\n`);
    const r = await laplink(['check', profile, '--root', root, '--lock-dir', locks]);
    expect(r.exitCode).toBe(1);
    const byWhat = Object.fromEntries(r.stdout.split('\n').map((l) => [l.slice(5).split(':')[0], l.slice(0, 4).trim()]));
    expect(byWhat).toMatchObject({ profile: 'ok', device: 'ok', permissions: 'FAIL', '/dev/ppp': 'FAIL', 'kernel PPP': 'FAIL', pppd: 'ok', chat: 'ok', lock: 'warn' });
    expect(r.stdout).toMatch(/^ok   device: \/dev\/pts\/\d+ is a tty$/m);
    expect(r.stdout).toMatch(/^ok   pppd: \/usr\/sbin\/pppd version \d+\.\d+\.\d+$/m);
    expect(r.stdout).toMatch(new RegExp(`^warn lock: stale lock .* of dead pid ${deadPid}`, 'm'));
    expect(r.stdout).toMatch(/^FAIL permissions: .*pap-secrets is mode 0644/m);
    // /dev/null exists but is no tty
    await writeFile(profile, `name: cli3\nrole: client\ndevice: /dev/null\nlocalIp: 192.168.7.2\nremoteIp: 192.168.7.1\n`);
    const n = await laplink(['check', profile, '--root', root, '--lock-dir', locks]);
    expect(n.stdout).toMatch(/^FAIL device: \/dev\/null is not a tty$/m);
  });
});
