/**
 * The journal is hostile input: recovery runs as root on what it names. A crafted journal pointing
 * outside its root (directly, with `..`, through a symlinked directory inside the root), at a file
 * laplink does not generate, or one that is not a regular file of ours (FIFO, device, symlink to
 * /dev/zero, oversized, someone else's, writable by others) is refused with nothing touched.
 */
import { execa } from 'execa';
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateLink } from '../../src/render/generate.js';
import { GENERATED_PATHS, JOURNAL_PATH, JournalError, parseJournal, recover, type Journal } from '../../src/render/journal.js';
import { renderProfile } from '../../src/render/render.js';
import { loadProfile } from '../../src/profile/load.js';

let root = '';
let outside = '';
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'laplink-journal-root-'));
  outside = await mkdtemp(join(tmpdir(), 'laplink-journal-outside-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

const journalFile = () => join(root, JOURNAL_PATH);
async function writeJournalText(text: string | Buffer): Promise<void> {
  await mkdir(join(root, 'var/lib/laplink'), { recursive: true });
  await writeFile(journalFile(), text, { mode: 0o600 });
}
const journalOf = (entries: Journal['entries'], state: Journal['state'] = 'committing'): Journal => ({ version: 1, pid: 12345, state, entries });

/** Every file under `dir` (path → content), to show nothing was touched. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const full = join(e.parentPath, e.name);
    out[full] = e.isFile() ? await readFile(full, 'utf8') : e.isSymbolicLink() ? 'symlink' : e.isFIFO() ? 'fifo' : e.isCharacterDevice() ? 'device' : 'dir';
  }
  return out;
}

async function expectRefused(pattern: RegExp): Promise<void> {
  const before = { ...(await snapshot(root)), ...(await snapshot(outside)) };
  const err = await recover(root, [join(root, 'etc/ppp/peers')]).then(() => undefined, (e: unknown) => e);
  expect(err, 'recovery must refuse').toBeInstanceOf(JournalError);
  expect((err as Error).message).toMatch(pattern);
  expect((err as Error).message).toMatch(/nothing was changed/);
  expect({ ...(await snapshot(root)), ...(await snapshot(outside)) }, 'nothing touched, the journal kept').toEqual(before);
}

/** A victim file outside the root, and a "temp" beside it with what an attacker wants written. */
async function victim(dir = outside): Promise<{ target: string; temp: string }> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'victim'), 'precious\n');
  await writeFile(join(dir, '.victim.laplink-tmp-0badc0de'), 'owned\n');
  return { target: join(dir, 'victim'), temp: join(dir, '.victim.laplink-tmp-0badc0de') };
}

describe('a crafted journal is refused with nothing touched', () => {
  it('a target outside the root (to be replaced, or deleted)', async () => {
    const v = await victim();
    await writeJournalText(JSON.stringify(journalOf([{ target: v.target, temp: v.temp, backup: null }])));
    await expectRefused(/entry 1: .*victim is outside/);
    await writeJournalText(JSON.stringify(journalOf([{ target: v.target, temp: null, backup: null }])));
    await expectRefused(/is outside/);
  });

  it('a target that climbs out with ..', async () => {
    const v = await victim();
    await mkdir(join(root, 'etc/ppp/peers'), { recursive: true });
    const climbing = join(root, 'etc/ppp/peers') + '/../../..' + outside.replace(/^\/tmp/, '/../tmp') + '/victim';
    await writeJournalText(JSON.stringify(journalOf([{ target: climbing, temp: v.temp, backup: null }])));
    await expectRefused(/is not a plain absolute path/);
  });

  it('a target through a symlinked directory inside the root', async () => {
    await mkdir(join(root, 'etc/ppp'), { recursive: true });
    await symlink(outside, join(root, 'etc/ppp/peers'));
    await writeFile(join(outside, 'x'), 'precious\n');
    await writeFile(join(outside, '.x.laplink-tmp-0badc0de'), 'owned\n');
    const target = join(root, 'etc/ppp/peers/x');
    await writeJournalText(JSON.stringify(journalOf([{ target, path: '/etc/ppp/peers/x', temp: join(root, 'etc/ppp/peers/.x.laplink-tmp-0badc0de'), backup: null }])));
    await expectRefused(/etc\/ppp\/peers leads to .*, outside/);
  });

  it('a file inside the root that laplink does not generate, and temps that are not its own', async () => {
    await mkdir(join(root, 'etc/ppp/peers'), { recursive: true });
    await writeFile(join(root, 'etc/shadow'), 'root:x:\n');
    await writeFile(join(root, 'etc/.shadow.laplink-tmp-0badc0de'), 'root::\n');
    await writeJournalText(JSON.stringify(journalOf([{ target: join(root, 'etc/shadow'), temp: join(root, 'etc/.shadow.laplink-tmp-0badc0de'), backup: null }])));
    await expectRefused(/\/etc\/shadow is not a file laplink generates/);
    await writeFile(join(root, 'etc/ppp/peers/x'), 'old\n');
    await writeJournalText(JSON.stringify(journalOf([{ target: join(root, 'etc/ppp/peers/x'), temp: join(root, 'etc/shadow'), backup: null }])));
    await expectRefused(/etc\/shadow is not a temp file of/);
    await writeJournalText(JSON.stringify(journalOf([{ target: join(root, 'etc/ppp/peers/x'), temp: null, backup: join(root, 'etc/shadow') }], 'rolling-back')));
    await expectRefused(/is not a backup of/);
  });

  it('a journal that is a FIFO, a device, a symlink to /dev/zero, or oversized', async () => {
    await mkdir(join(root, 'var/lib/laplink'), { recursive: true });
    await execa('mkfifo', [journalFile()]);
    await expectRefused(/generate\.journal is refused \(is a FIFO, not a regular file; not read\)/);
    await rm(journalFile());
    await symlink('/dev/zero', journalFile());
    await expectRefused(/is refused \(is a symbolic link, not a regular file; not read\)/);
    await rm(journalFile());
    // a device node itself (/dev/zero's numbers; the suite runs as root, as CI does)
    await execa('mknod', [journalFile(), 'c', '1', '5']);
    await expectRefused(/is refused \(is a character device, not a regular file; not read\)/);
    await rm(journalFile());
    // a valid journal padded past the cap: read whole, it would be rolled forward
    const v = join(root, 'etc/ppp/peers');
    await mkdir(v, { recursive: true });
    await writeFile(join(v, 'x'), 'old\n');
    await writeFile(join(v, '.x.laplink-tmp-0badc0de'), 'new\n');
    await writeJournalText(JSON.stringify(journalOf([{ target: join(v, 'x'), temp: join(v, '.x.laplink-tmp-0badc0de'), backup: null }])) + ' '.repeat(300 * 1024));
    await expectRefused(/is refused \(is larger than 262144 bytes; not read\)/);
  });

  it('a journal someone else owns, or that others may write', async () => {
    const v = join(root, 'etc/ppp/peers');
    await mkdir(v, { recursive: true });
    await writeFile(join(v, 'x'), 'old\n');
    await writeFile(join(v, '.x.laplink-tmp-0badc0de'), 'new\n');
    await writeJournalText(JSON.stringify(journalOf([{ target: join(v, 'x'), temp: join(v, '.x.laplink-tmp-0badc0de'), backup: null }])));
    await chmod(journalFile(), 0o622);
    await expectRefused(/others may write it \(mode 622\)/);
    await chmod(journalFile(), 0o600);
    if (process.getuid!() !== 0) throw new Error('this case gives the journal to another user: it needs root, as CI runs it');
    await chown(journalFile(), 65534, 65534);
    await expectRefused(/belongs to uid 65534, not to this user \(uid 0\)/);
    // the same journal, ours again: rolled forward (the refusals above were about the file alone)
    await chown(journalFile(), 0, 0);
    const r = await recover(root, [v]);
    expect(r.interrupted).toMatchObject({ state: 'committing', outcome: 'rolled forward', files: 1 });
    expect(await readFile(join(v, 'x'), 'utf8')).toBe('new\n');
  });
});

describe('what a journal may name', () => {
  it('every file any example or golden profile generates is in the set (so real journals pass)', async () => {
    const dirs = ['examples', 'test/fixtures/golden-profiles', 'test/fixtures/howto', 'lab/profiles'];
    let files = 0;
    for (const d of dirs) {
      for (const name of await readdir(d)) {
        if (!/\.ya?ml$/.test(name)) continue;
        const loaded = await loadProfile(join(d, name)).catch(() => undefined);
        if (!loaded) continue;
        for (const f of renderProfile(loaded.profile, { profilePath: '/etc/laplink/x.yaml', laplinkArgv: ['/usr/bin/laplink'], hostResolvers: () => [] })) {
          files++;
          expect(GENERATED_PATHS.some((re) => re.test(f.path)), f.path).toBe(true);
        }
      }
    }
    expect(files).toBeGreaterThan(100);
  });

  it('a journal written by generate itself passes the checks (a symlinked /etc/hosts inside the root too)', async () => {
    await mkdir(join(root, 'etc'), { recursive: true });
    await writeFile(join(root, 'hosts.real'), '127.0.0.1 localhost\n');
    await symlink('../hosts.real', join(root, 'etc/hosts'));
    await writeFile(join(root, 'p.yaml'), 'name: jtest\nrole: server\npeer: linux\ndevice: /dev/ttyS1\nlocalIp: 192.168.7.1\nremoteIp: 192.168.7.2\nhostnames: { local: a, remote: b }\nauth: { require: none }\n');
    let seen: Journal | undefined;
    await generateLink(join(root, 'p.yaml'), {
      root,
      laplinkArgv: ['/usr/bin/laplink'],
      hooks: {
        beforeCommit: async (_c, i) => {
          if (i === 0) seen = parseJournal(journalFile(), await readFile(journalFile(), 'utf8'), root);
        },
      },
    });
    expect(seen?.state).toBe('committing');
    expect(seen!.entries.some((e) => e.path === '/etc/hosts' && e.target === join(root, 'hosts.real'))).toBe(true);
  });

  it('generate refuses a symlinked /etc/hosts that leads out of --root, nothing written', async () => {
    await mkdir(join(root, 'etc'), { recursive: true });
    await writeFile(join(outside, 'hosts'), '127.0.0.1 localhost\n');
    await symlink(join(outside, 'hosts'), join(root, 'etc/hosts'));
    await writeFile(join(root, 'p.yaml'), 'name: jtest\nrole: server\npeer: linux\ndevice: /dev/ttyS1\nlocalIp: 192.168.7.1\nremoteIp: 192.168.7.2\nhostnames: { local: a, remote: b }\nauth: { require: none }\n');
    await expect(generateLink(join(root, 'p.yaml'), { root, laplinkArgv: ['/usr/bin/laplink'] })).rejects.toThrow(/etc\/hosts is a symlink to .*, outside --root .*; nothing was changed/);
    expect(await readFile(join(outside, 'hosts'), 'utf8')).toBe('127.0.0.1 localhost\n');
  });
});
