/**
 * The profile `serve` watches is read back on every change, and whoever can write its directory
 * may put something else in its place: a FIFO (read whole, it blocks until someone writes, and the
 * reload chain and the stop that waits for it with it), a symlink to /dev/zero (never ends), a file
 * over the loader's cap. Each is rejected in one line naming the file, the link keeps running, a
 * good edit after it still applies, and SIGTERM still ends serve. pppd's pid file, read before the
 * first start to find a pppd left behind, is said in one line when it is not one, and serve starts. Runs the built CLI with the pppd
 * STAND-IN test/helpers/fake-pppd.mjs (this kernel cannot carry a PPP link).
 */
import { execa, type ResultPromise } from 'execa';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { readStateFile } from '../../src/pppd/state.js';
import { MAX_CONFIG_BYTES } from '../../src/yaml/load.js';
import { endWithStandIns, profileYaml, removeDir, serveWithStandIn, tempDir } from '../helpers/supervisor-harness.js';

let dir = '';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
  await removeDir(dir);
});

/**
 * `laplink serve` on the stand-in, ended by endWithStandIns when the test failed half-way (a serve
 * stuck in its stop is the failure this file looks for).
 */
function serve(profile: string): ResultPromise & { output: () => string } {
  const { serve: p, output } = serveWithStandIn(dir, profile);
  cleanups.push(() => endWithStandIns(p, join(dir, 'starts')));
  return Object.assign(p, { output });
}

async function until<T>(what: string, get: () => Promise<T | undefined> | T | undefined, output: () => string): Promise<T> {
  const end = Date.now() + 20_000;
  for (;;) {
    const v = await get();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`waited 20 s for ${what}; serve said:\n${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The kinds of file put in the profile's place, and the reason its rejection must give. */
const HOSTILE: Array<{ kind: string; make: (file: string) => Promise<unknown>; reason: RegExp }> = [
  { kind: 'a FIFO', make: (file) => execa('mkfifo', [file]), reason: /is a FIFO, not a regular file; not read/ },
  { kind: 'a symlink to /dev/zero', make: (file) => symlink('/dev/zero', file), reason: /is a character device, not a regular file; not read/ },
  { kind: 'a file over the cap', make: (file) => writeFile(file, `${profileYaml('hostile')}#${'x'.repeat(MAX_CONFIG_BYTES)}\n`), reason: new RegExp(`is larger than ${MAX_CONFIG_BYTES} bytes; not read`) },
];

for (const { kind, make, reason } of HOSTILE) {
  it(`a profile replaced by ${kind}: rejected in one line naming it, the link kept; a good edit still applies; SIGTERM ends serve`, async () => {
    dir = await tempDir('laplink-serve-hostile-');
    const profile = join(dir, 'link.yaml');
    await writeFile(profile, profileYaml('hostile'));
    const p = serve(profile);
    const stateDir = join(dir, 'state');
    const up = await until('link up', async () => {
      const s = await readStateFile(stateDir, 'hostile').catch(() => undefined);
      return s?.state === 'up' ? s : undefined;
    }, p.output);
    await rm(profile);
    await make(profile);
    await until('the rejection', () => p.output().includes('profile change rejected'), p.output);
    const line = p.output().split('\n').find((l) => l.includes('profile change rejected'));
    expect(line).toMatch(new RegExp(`^hostile: profile change rejected, keeping the running link: ${profile}: `));
    expect(line).toMatch(reason);
    expect(p.output()).not.toMatch(/internal error|at .*\.js:\d+/);
    expect((await readStateFile(stateDir, 'hostile'))?.pppdPid, 'the link kept').toBe(up.pppdPid);
    // a good edit after it is still seen: the reload chain was not held
    await rm(profile);
    await writeFile(profile, profileYaml('hostile').replace('localIp: 192.168.7.1', 'localIp: 192.168.7.11'));
    await until('the good edit', () => p.output().includes('profile changed: will apply at the next link-down'), p.output);
    p.kill('SIGTERM');
    expect((await p).exitCode, p.output()).toBe(0);
  });
}

it("a FIFO as pppd's pid file: one line naming it, and the link comes up", async () => {
  dir = await tempDir('laplink-serve-hostile-');
  const profile = join(dir, 'link.yaml');
  await writeFile(profile, profileYaml('hostile'));
  await mkdir(join(dir, 'run'));
  await execa('mkfifo', [join(dir, 'run/ppp-hostile.pid')]);
  const p = serve(profile);
  await until('link up', async () => ((await readStateFile(join(dir, 'state'), 'hostile').catch(() => undefined))?.state === 'up' ? true : undefined), p.output);
  expect(p.output()).toContain(`hostile: ${join(dir, 'run/ppp-hostile.pid')}: is a FIFO, not a regular file; not read; ignored\n`);
});
