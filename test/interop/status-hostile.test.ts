/**
 * State files are hostile input: beside one good state file, files of the wrong shape (wrong types,
 * a JSON array, deep nesting) and of the wrong kind (a FIFO, a device node, a symlink to /dev/zero,
 * one over the size cap) are listed as unreadable with their reason by `status`, `status --json` and
 * `status --watch`, and the good link is still shown. Runs the built CLI.
 */
import { execa } from 'execa';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { writeStateFile, type LinkStatus } from '../../src/pppd/state.js';
import { killWatch, startWatch, type WatchProcess } from '../helpers/status-watch.js';
import { laplinkBin, removeDir, tempDir } from '../helpers/supervisor-harness.js';

let dir = '';
let watcher: WatchProcess | undefined;
afterEach(async () => {
  await killWatch(watcher);
  watcher = undefined;
  await removeDir(dir);
});

const good: LinkStatus = { name: 'good', state: 'up', since: new Date().toISOString(), supervisorPid: process.pid, iface: 'ppp0', restarts: 0 };

/** The bad files and the reason each must be listed with. */
const REASONS: Record<string, RegExp> = {
  'wrong-types': /is not in the expected format \(since: /,
  array: /is not in the expected format/,
  nested: /is not in the expected format \(lastExit\.code: /,
  fifo: /is a FIFO, not a regular file; not read/,
  zero: /is a symbolic link, not a regular file; not read/,
  device: /is a character device, not a regular file; not read/,
  big: /is larger than 1048576 bytes; not read/,
};

async function hostileStateDir(): Promise<string> {
  dir = await tempDir('laplink-status-hostile-');
  const state = join(dir, 'state');
  await mkdir(state);
  await writeStateFile(state, good);
  await writeFile(join(state, 'wrong-types.json'), JSON.stringify({ ...good, name: 'wrong-types', since: 1_700_000_000, restarts: '3' }));
  await writeFile(join(state, 'array.json'), JSON.stringify([good]));
  const deep = 6000; // deep enough to break a recursive walker, small enough to pass the size cap
  await writeFile(join(state, 'nested.json'), `{"name":"nested","state":"up","since":"${good.since}","supervisorPid":${process.pid},"restarts":0,"lastExit":{"code":${'['.repeat(deep)}${']'.repeat(deep)},"meaning":"x","at":"${good.since}"},"extra":${'{"a":'.repeat(deep)}1${'}'.repeat(deep)}}`);
  await execa('mkfifo', [join(state, 'fifo.json')]);
  await symlink('/dev/zero', join(state, 'zero.json'));
  // a device node itself (/dev/zero's numbers; the suite runs as root, as CI does)
  await execa('mknod', [join(state, 'device.json'), 'c', '1', '5']);
  // a valid state, padded past the cap: read whole it would show as a link
  await writeFile(join(state, 'big.json'), `${JSON.stringify({ ...good, name: 'big' })}${' '.repeat(2 * 1024 * 1024)}`);
  return state;
}

const run = (args: string[]) => execa(process.execPath, [laplinkBin, 'status', ...args], { reject: false, timeout: 20_000 });

it('status: the good link in the table, each bad file a row and one line with its reason', async () => {
  const state = await hostileStateDir();
  const r = await run(['--state-dir', state]);
  expect(r.stderr).not.toMatch(/internal error|TypeError|RangeError/);
  expect(r.exitCode, r.stderr).toBe(1);
  expect(r.stdout).toMatch(/^good\s+up\s/m);
  for (const [name, reason] of Object.entries(REASONS)) {
    expect(r.stdout, name).toMatch(new RegExp(`^${name}\\s+unreadable\\s`, 'm'));
    const line = r.stdout.split('\n').find((l) => l.startsWith(`${name}: state file unreadable: `));
    expect(line, name).toMatch(reason);
    expect(line, name).toContain(join(state, `${name}.json`));
  }
  expect(r.stdout).toMatch(/^8 links: 1 up, 7 unreadable$/m);
});

it('status --json: the good link, and each bad file with `unreadable` and its reason', async () => {
  const state = await hostileStateDir();
  const r = await run(['--json', '--state-dir', state]);
  expect(r.exitCode, r.stderr).toBe(1);
  const all = JSON.parse(r.stdout) as Array<{ name: string; state?: string; unreadable?: string; file?: string }>;
  expect(all.find((l) => l.name === 'good')).toMatchObject({ state: 'up', stale: false });
  for (const [name, reason] of Object.entries(REASONS)) {
    const entry = all.find((l) => l.name === name);
    expect(entry?.unreadable, name).toMatch(reason);
    expect(entry?.file).toBe(join(state, `${name}.json`));
  }
  const one = await run(['fifo', '--state-dir', state]);
  expect(one.exitCode).toBe(1);
  expect(one.stdout).toMatch(/^fifo: state file unreadable: .*is a FIFO/m);
});

it('status --watch --json lists the bad files and shows the good link, then ends on SIGTERM', async () => {
  const state = await hostileStateDir();
  watcher = startWatch(['--json', '--state-dir', state]);
  await watcher.waitFor('"unreadable":[{');
  const view = JSON.parse(watcher.output().split('\n')[0]!) as { links: Array<{ name: string; state: string }>; unreadable: Array<{ name: string; reason: string }> };
  expect(view.links.map((l) => `${l.name} ${l.state}`)).toEqual(['good up']);
  for (const [name, reason] of Object.entries(REASONS)) expect(view.unreadable.find((u) => u.name === name)?.reason, name).toMatch(reason);
  watcher.proc.kill('SIGTERM');
  expect(await watcher.exit).toBe(0);
});
