/**
 * The order of the journalled write, observed through its file-system seam: every directory a target
 * was renamed into is fsynced after those renames and before any backup or the journal is removed.
 * Without that fsync a power cut could keep the old directory entries on disk while the backups and
 * the journal that would restore them are gone. Nothing else observes the order: a crash test on a
 * normal file system never loses an un-fsynced rename.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { generateLink } from '../../src/render/generate.js';
import { JOURNAL_PATH, realFs, rollForward, type JournalFs } from '../../src/render/journal.js';

let root = '';
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'laplink-fsync-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

type Call = { op: 'rename' | 'unlink' | 'link' | 'fsync'; path: string };

/** The real calls, each recorded (rename by its destination) before it runs. */
function recording(calls: Call[]): JournalFs {
  return {
    rename: async (from, to) => (calls.push({ op: 'rename', path: to }), realFs.rename(from, to)),
    unlink: async (path) => (calls.push({ op: 'unlink', path }), realFs.unlink(path)),
    link: async (existing, name) => (calls.push({ op: 'link', path: name }), realFs.link(existing, name)),
    fsyncDir: async (dir) => (calls.push({ op: 'fsync', path: dir }), realFs.fsyncDir(dir)),
  };
}

/** For each directory renamed into: an fsync of it after its last rename and before `firstAfter`. */
function expectDirsSyncedBefore(calls: Call[], renamed: Call[], firstAfter: number): void {
  expect(renamed.length).toBeGreaterThan(0);
  for (const dir of new Set(renamed.map((c) => dirname(c.path)))) {
    const lastRename = calls.findLastIndex((c) => c.op === 'rename' && dirname(c.path) === dir && renamed.includes(c));
    const sync = calls.findIndex((c, i) => i > lastRename && c.op === 'fsync' && c.path === dir);
    expect(sync, `fsync of ${dir} after its renames (calls: ${calls.map((c) => `${c.op} ${c.path.slice(root.length)}`).join(', ')})`).toBeGreaterThan(lastRename);
    expect(sync, `fsync of ${dir} before backups and journal go`).toBeLessThan(firstAfter);
  }
}

const profileText = (mtu: number) => `name: ftest
role: server
peer: linux
device: /dev/ttyS1
localIp: 192.168.7.1
remoteIp: 192.168.7.2
hostnames: { local: gw, remote: laptop }
auth:
  users:
    - name: zaphod
      password: "secret"
mtu: ${mtu}
`;

it('generate: each target directory is fsynced after the renames, before backups and journal are removed', async () => {
  const profile = join(root, 'p.yaml');
  await writeFile(profile, profileText(1500));
  await generateLink(profile, { root, laplinkArgv: ['/usr/bin/laplink'] });
  await writeFile(profile, profileText(576));
  const calls: Call[] = [];
  await generateLink(profile, { root, laplinkArgv: ['/usr/bin/laplink'], hooks: { fs: recording(calls) } });
  const journal = join(root, JOURNAL_PATH);
  const renamed = calls.filter((c) => c.op === 'rename' && c.path !== journal);
  const firstCleanup = calls.findIndex((c) => c.op === 'unlink' && (/\.laplink-bak-/.test(c.path) || c.path === journal));
  expect(calls.filter((c) => c.op === 'link').length, 'the update made backups').toBeGreaterThan(0);
  expectDirsSyncedBefore(calls, renamed, firstCleanup);
});

it('recovery rolling forward: the same order', async () => {
  const dir = join(root, 'etc/ppp/peers');
  await mkdir(dir, { recursive: true });
  const entries = ['a', 'b'].map((n) => ({ target: join(dir, n), temp: join(dir, `.${n}.laplink-tmp-0000000${n === 'a' ? 1 : 2}`), backup: join(dir, `.${n}.laplink-bak-0000000${n === 'a' ? 3 : 4}`) }));
  for (const e of entries) {
    await writeFile(e.target, 'old\n');
    await writeFile(e.backup, 'old\n');
    await writeFile(e.temp, 'new\n');
  }
  const calls: Call[] = [];
  await rollForward(entries, recording(calls));
  const firstCleanup = calls.findIndex((c) => c.op === 'unlink');
  expectDirsSyncedBefore(calls, calls.filter((c) => c.op === 'rename'), firstCleanup);
});
