import { execa } from 'execa';
import { chmod, chown, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateLink, removeLink } from '../../src/render/generate.js';
import { WriteError } from '../../src/render/write.js';
import { EXIT } from '../../src/exit-codes.js';
import { laplinkBin } from '../helpers/supervisor-harness.js';

const argv = ['/usr/bin/node', '/opt/ppp-laplink/bin/laplink.js'];
const profileText = (extra = '') => `name: wtest
role: server
peer: windows
device: /dev/ttyS1
localIp: 192.168.7.1
remoteIp: 192.168.7.2
hostnames: { local: ppp-laplink-server, remote: ppp-laplink-client }
auth:
  users:
    - name: zaphod
      password: "gargle Blaster"
inittab: true
${extra}`;

let root: string;
let profile: string;

/** Every file under dir, relative path → content. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) {
      const full = join(e.parentPath, e.name);
      out[full.slice(dir.length)] = await readFile(full, 'utf8');
    }
  }
  return out;
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'laplink-write-'));
  profile = join(root, 'profile.yaml');
  await writeFile(profile, profileText());
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('generate writes', () => {
  it('creates every file, then reports all unchanged on a second run', async () => {
    const first = await generateLink(profile, { root, laplinkArgv: argv });
    expect(first.changes.map((c) => [c.path, c.action])).toEqual([
      ['/etc/ppp/peers/wtest', 'created'],
      ['/etc/ppp/options.ttyS1', 'created'],
      ['/etc/ppp/pap-secrets', 'created'],
      ['/etc/ppp/chat/wtest', 'created'],
      ['/etc/systemd/system/laplink@.service', 'created'],
      ['/etc/systemd/system/laplink-bridge@.service', 'created'],
      ['/etc/systemd/system/laplink@wtest.service.d/profile.conf', 'created'],
      ['/etc/laplink/wtest.inittab', 'created'],
      ['/etc/hosts', 'created'],
      ['/etc/ppp/ip-up.d/laplink-wtest', 'created'],
      ['/etc/ppp/ip-down.d/laplink-wtest', 'created'],
    ]);
    const before = await snapshot(root);
    const second = await generateLink(profile, { root, laplinkArgv: argv });
    expect(second.changes.every((c) => c.action === 'unchanged')).toBe(true);
    expect(await snapshot(root)).toEqual(before);
    expect((await stat(join(root, 'etc/ppp/pap-secrets'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(root, 'etc/ppp/peers/wtest'))).mode & 0o777).toBe(0o644);
  });

  it('forces 0600 on an existing secrets file', async () => {
    await mkdir(join(root, 'etc/ppp'), { recursive: true });
    await writeFile(join(root, 'etc/ppp/pap-secrets'), '# mine\n', { mode: 0o644 });
    await generateLink(profile, { root, laplinkArgv: argv });
    expect((await stat(join(root, 'etc/ppp/pap-secrets'))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(root, 'etc/ppp/pap-secrets'), 'utf8')).toMatch(/^# mine\n# BEGIN ppp-laplink wtest\n/);
  });

  it('keeps the owner of an existing shared file; new files belong to the user running generate', async () => {
    await mkdir(join(root, 'etc/ppp'), { recursive: true });
    await writeFile(join(root, 'etc/ppp/pap-secrets'), '# mine\n', { mode: 0o640 });
    const isRoot = process.getuid?.() === 0;
    if (isRoot) await chown(join(root, 'etc/ppp/pap-secrets'), 1234, 4321);
    await generateLink(profile, { root, laplinkArgv: argv });
    const st = await stat(join(root, 'etc/ppp/pap-secrets'));
    expect([st.uid, st.gid]).toEqual(isRoot ? [1234, 4321] : [process.getuid!(), process.getgid!()]);
    expect(st.mode & 0o777).toBe(0o600);
    const fresh = await stat(join(root, 'etc/ppp/peers/wtest'));
    expect(fresh.uid).toBe(process.getuid!());
  });

  it('edits a symlinked /etc/hosts where it points and keeps the link', async () => {
    await mkdir(join(root, 'etc'), { recursive: true });
    await writeFile(join(root, 'hosts.real'), '127.0.0.1 localhost\n');
    await symlink('../hosts.real', join(root, 'etc/hosts'));
    await generateLink(profile, { root, laplinkArgv: argv });
    expect((await lstat(join(root, 'etc/hosts'))).isSymbolicLink()).toBe(true);
    expect(await readlink(join(root, 'etc/hosts'))).toBe('../hosts.real');
    expect(await readFile(join(root, 'hosts.real'), 'utf8')).toMatch(/^127\.0\.0\.1 localhost\n# BEGIN ppp-laplink wtest\n192\.168\.7\.1\tppp-laplink-server\n/);
  });

  it('dry run writes nothing', async () => {
    const r = await generateLink(profile, { root, laplinkArgv: argv, dryRun: true });
    expect(r.changes.every((c) => c.action === 'created')).toBe(true);
    expect(await snapshot(root)).toEqual({ '/profile.yaml': profileText() });
  });

  it('is all-or-nothing: a failure at the third rename leaves the old files and no temp files', async () => {
    await generateLink(profile, { root, laplinkArgv: argv });
    const before = await snapshot(root);
    // three changed targets (peers, options.ttyS1, pap-secrets): the third rename fails
    await writeFile(profile, profileText('mtu: 576\nspeed: 57600\n').replace('gargle Blaster', 'new secret'));
    const err = await generateLink(profile, {
      root,
      laplinkArgv: argv,
      hooks: {
        beforeCommit: (_c, i) => {
          if (i === 2) throw Object.assign(new Error('injected failure'), { code: 'EIO' });
        },
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WriteError);
    expect((err as WriteError).message).toMatch(/^cannot write \/.*\/etc\/ppp\/pap-secrets: input\/output error; nothing was changed$/);
    const after = await snapshot(root);
    delete after['/profile.yaml'];
    delete before['/profile.yaml'];
    // same files with the same contents: no temp or backup left, the two renamed targets restored
    expect(after).toEqual(before);
  });

  it('is all-or-nothing on a real filesystem error too (a target directory that cannot exist)', async () => {
    await generateLink(profile, { root, laplinkArgv: argv });
    const before = await snapshot(root);
    // the unit's directory is blocked by a plain file: mkdir fails after earlier temps were written
    await rm(join(root, 'etc/systemd'), { recursive: true });
    await writeFile(join(root, 'etc/systemd'), 'not a directory\n');
    await writeFile(profile, profileText('speed: 57600\n').replace('gargle Blaster', 'other secret'));
    const err = await generateLink(profile, { root, laplinkArgv: argv }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WriteError);
    expect((err as Error).message).toMatch(/^cannot write \/.*\/etc\/systemd\/system\/laplink[^ ]*\.service[^ ]*: a parent is not a directory; nothing was changed$/);
    const after = await snapshot(root);
    for (const s of [before, after]) {
      delete s['/profile.yaml'];
      for (const unit of ['laplink@.service', 'laplink-bridge@.service', 'laplink@wtest.service.d/profile.conf']) delete s[`/etc/systemd/system/${unit}`];
      delete s['/etc/systemd'];
    }
    expect(after).toEqual(before);
  });

  it('rolls back created files too', async () => {
    const err = await generateLink(profile, {
      root,
      laplinkArgv: argv,
      hooks: { beforeCommit: (_c, i) => { if (i === 4) throw new Error('disk full'); } },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WriteError);
    expect(Object.keys(await snapshot(root))).toEqual(['/profile.yaml']);
  });

  it('remove deletes our files and blocks and keeps the rest', async () => {
    await mkdir(join(root, 'etc/ppp/peers'), { recursive: true });
    await writeFile(join(root, 'etc/hosts'), '127.0.0.1\tlocalhost\n');
    await generateLink(profile, { root, laplinkArgv: argv });
    await writeFile(join(root, 'etc/ppp/peers/other'), 'mine\n');
    const r = await removeLink(profile, { root, laplinkArgv: argv });
    // options.ttyS1 and pap-secrets held only this link's block: they go too (issue 14); hosts stays.
    // The template units are shared by every link: this was the last, so they go with its drop-in.
    expect(r.changes.map((c) => c.action)).toEqual(['removed', 'removed', 'removed', 'removed', 'removed', 'removed', 'removed', 'removed', 'updated', 'removed', 'removed']);
    const left = await snapshot(root);
    expect(left['/etc/hosts']).toBe('127.0.0.1\tlocalhost\n');
    expect(left['/etc/ppp/pap-secrets']).toBeUndefined();
    expect(Object.keys(left).filter((f) => f.startsWith('/etc/ppp/options'))).toEqual([]);
    expect(left['/etc/ppp/peers/other']).toBe('mine\n');
    expect(left['/etc/ppp/peers/wtest']).toBeUndefined();
    await expect(readdir(join(root, 'etc/systemd/system'))).resolves.toEqual([]);
  });

  it('remove keeps a shared file that holds more than our block, and /etc/hosts even when empty', async () => {
    await mkdir(join(root, 'etc/ppp'), { recursive: true });
    await writeFile(join(root, 'etc/ppp/pap-secrets'), '# Secrets for authentication using PAP\n');
    await generateLink(profile, { root, laplinkArgv: argv });
    const r = await removeLink(profile, { root, laplinkArgv: argv });
    expect(r.changes.find((c) => c.path === '/etc/ppp/pap-secrets')).toMatchObject({ action: 'updated' });
    expect(r.changes.find((c) => c.path === '/etc/hosts')).toMatchObject({ action: 'updated' });
    const left = await snapshot(root);
    expect(left['/etc/ppp/pap-secrets']).toBe('# Secrets for authentication using PAP\n');
    expect(left['/etc/hosts']).toBe('');
  });

  it('remove keeps a same-named file that we did not generate', async () => {
    await mkdir(join(root, 'etc/ppp/peers'), { recursive: true });
    await writeFile(join(root, 'etc/ppp/peers/wtest'), 'handmade\n');
    const r = await removeLink(profile, { root, laplinkArgv: argv });
    expect(r.changes[0]).toMatchObject({ action: 'kept' });
    expect(await readFile(join(root, 'etc/ppp/peers/wtest'), 'utf8')).toBe('handmade\n');
  });
});

describe('generate lock', () => {
  it('two links generated at the same time both keep their blocks in the shared files', async () => {
    const profiles = await Promise.all(
      ['la', 'lb', 'lc', 'ld'].map(async (n, i) => {
        const p = join(root, `${n}.yaml`);
        await writeFile(p, profileText().replace('name: wtest', `name: ${n}`).replace('ppp-laplink-server', `srv-${n}`).replace('device: /dev/ttyS1', `device: /dev/ttyS${i}`).replace('inittab: true', 'inittab: false'));
        return p;
      }),
    );
    await Promise.all(profiles.map((p) => generateLink(p, { root, laplinkArgv: argv })));
    const hosts = await readFile(join(root, 'etc/hosts'), 'utf8');
    const secrets = await readFile(join(root, 'etc/ppp/pap-secrets'), 'utf8');
    for (const n of ['la', 'lb', 'lc', 'ld']) {
      expect(hosts).toContain(`# BEGIN ppp-laplink ${n}\n`);
      expect(secrets).toContain(`# BEGIN ppp-laplink ${n}\n`);
    }
    await expect(readdir(join(root, 'run/lock'))).resolves.toEqual([]);
  });

  it('waits for a live holder, then gives up with a clear error; takes over a dead one', async () => {
    const { BusyError } = await import('../../src/render/generate-lock.js');
    await mkdir(join(root, 'run/lock'), { recursive: true });
    const lock = join(root, 'run/lock/laplink-generate.lock');
    await writeFile(lock, `${process.pid}\n`); // held by a live process (us)
    const err = await generateLink(profile, { root, laplinkArgv: argv, lockWaitMs: 200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BusyError);
    expect((err as Error).message).toBe(`another laplink (pid ${process.pid}) is writing configuration; lock ${lock}`);
    await expect(readdir(join(root, 'etc'))).rejects.toThrow(/ENOENT/);
    await writeFile(lock, '999999999\n'); // no such process
    const r = await generateLink(profile, { root, laplinkArgv: argv, lockWaitMs: 200 });
    expect(r.changes[0]!.action).toBe('created');
    await expect(readdir(join(root, 'run/lock'))).resolves.toEqual([]);
  });

  it("a dead holder's lock this user may not move (root's, in a sticky lock directory like /run/lock) is refused in one line, not retried for ever", async () => {
    if (process.getuid?.() !== 0) throw new Error('this test drops from root to nobody with setpriv: run it as root');
    await chmod(root, 0o755);
    await mkdir(join(root, 'run/lock'), { recursive: true });
    await chmod(join(root, 'run/lock'), 0o1777);
    const lock = join(root, 'run/lock/laplink-generate.lock');
    await writeFile(lock, '999999999\n'); // no such process
    // the timeout only ends a run that hangs (as one did, spinning a core): no time is asserted
    const r = await execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'node', laplinkBin, 'generate', profile, '--root', root], { reject: false, timeout: 30_000 });
    expect(r.stderr).toBe(`laplink: cannot take over the lock ${lock}, which no live laplink holds: operation not permitted; remove it by hand; nothing was changed`);
    expect(r.exitCode).toBe(EXIT.FAILED);
    await expect(readdir(join(root, 'run/lock')), 'the lock as it was, no temp of the run beside it').resolves.toEqual(['laplink-generate.lock']);
    await expect(readFile(lock, 'utf8')).resolves.toBe('999999999\n');
  });
});
