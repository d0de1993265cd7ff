/**
 * pppd's pid file (RUNDIR/ppp-NAME.pid) and the UUCP lock are read back before every start (the
 * orphan search), by remove's live-link check and by the queue's release: whoever can write the
 * run or lock directory may leave a FIFO (read whole, it blocks until someone writes), a device node
 * or a symlink to /dev/zero (never ends), or a huge file there. Each names no process, at once, and
 * the orphan search says so in one line naming it; a real pid file still names pid and interface.
 * (Device nodes are made with mknod: the suite runs as root, as CI does.)
 */
import { execa } from 'execa';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { findOrphanPppd, readLockHolder, readPppdPidFile } from '../../src/pppd/orphan.js';
import { releaseQueue } from '../../src/pppd/release-queue.js';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'laplink-pidfile-'));
  await mkdir(join(dir, 'run'));
  await mkdir(join(dir, 'lock'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const HOSTILE: Array<[string, (file: string) => Promise<unknown>]> = [
  ['a FIFO', (file) => execa('mkfifo', [file])],
  ['a device node', (file) => execa('mknod', [file, 'c', '1', '5'])],
  ['a symlink to /dev/zero', (file) => symlink('/dev/zero', file)],
  ['a file over the cap that starts like a pid file', (file) => writeFile(file, `${process.pid}\nppp0\n${' '.repeat(64 * 1024)}`)],
];

it("a real pid file names pppd's pid and interface", async () => {
  await writeFile(join(dir, 'run/ppp-link.pid'), `${process.pid}\nppp0\n`);
  expect(await readPppdPidFile(join(dir, 'run'), 'link')).toEqual({ pid: process.pid, iface: 'ppp0' });
});

for (const [kind, make] of HOSTILE) {
  it(`${kind} as the pid file or the lock file names no process, and the orphan search ends`, async () => {
    await make(join(dir, 'run/ppp-link.pid'));
    await make(join(dir, 'lock/LCK..ttyS7'));
    expect(await readPppdPidFile(join(dir, 'run'), 'link')).toBeUndefined();
    expect(await readLockHolder(join(dir, 'lock'), '/dev/ttyS7')).toBeUndefined();
    const said: string[] = [];
    expect(await findOrphanPppd({ name: 'link', runDir: join(dir, 'run'), lockDir: join(dir, 'lock'), device: '/dev/ttyS7', warn: (line) => said.push(line) })).toBeUndefined();
    // one line for each, naming it (the supervisor logs them)
    expect(said).toHaveLength(2);
    expect(said[0]).toMatch(new RegExp(`^${join(dir, 'run/ppp-link.pid')}: .*; ignored$`));
    expect(said[1]).toMatch(new RegExp(`^${join(dir, 'lock/LCK..ttyS7').replace(/\./g, '\\.')}: .*; ignored$`));
  });
}

it("remove's queue release: a FIFO as the pid file is one line naming it, and nothing is run", async () => {
  await execa('mkfifo', [join(dir, 'run/ppp-link.pid')]);
  const hook = join(dir, 'ip-down');
  await writeFile(hook, `#!/bin/sh\ntouch ${join(dir, 'ran')}\n`, { mode: 0o755 });
  const said: string[] = [];
  expect(await releaseQueue('link', hook, join(dir, 'run'), false, (line) => said.push(line))).toBeUndefined();
  expect(said).toEqual([`${join(dir, 'run/ppp-link.pid')}: is a FIFO, not a regular file; not read; ignored`]);
  await expect(execa('test', ['-e', join(dir, 'ran')])).rejects.toThrow();
});
