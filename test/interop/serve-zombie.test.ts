/**
 * `serve` after a supervisor was killed with -9 and not yet reaped by its parent: the state file names
 * a zombie, which still answers signal 0. The one liveness test says it is not alive, so the new
 * supervisor starts (with the pppd STAND-IN test/helpers/fake-pppd.mjs: this kernel has no PPP) and
 * `status` agrees. The zombie is made on purpose: python forks a child that exits and never waits.
 */
import { execa, type ResultPromise } from 'execa';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { readStateFile, writeStateFile } from '../../src/pppd/state.js';
import { laplinkBin, processReaper, profileYaml, removeDir, serveWithStandIn, tempDir } from '../helpers/supervisor-harness.js';

let dir = '';
const { children, strayPids, reap } = processReaper();
afterEach(async () => {
  await reap();
  await removeDir(dir);
});

const ZOMBIE_PARENT = 'import os, time\npid = os.fork()\nif pid == 0: os._exit(0)\nprint(pid, flush=True)\ntime.sleep(120)\n';

async function makeZombie(): Promise<number> {
  const parent = execa('python3', ['-c', ZOMBIE_PARENT], { reject: false });
  children.push(parent);
  const pid = await new Promise<number>((resolve) => parent.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  for (;;) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return pid;
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function until<T>(what: string, get: () => Promise<T | undefined>, output: () => string): Promise<T> {
  const end = Date.now() + 20_000;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`no ${what} within 20 s; serve said: ${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `laplink serve` of the profile with the stand-in pppd holding the link up; killed after the test. */
function startServe(profile: string, stateDir: string): { serve: ResultPromise; output: () => string } {
  const started = serveWithStandIn(dir, profile, stateDir);
  children.push(started.serve);
  return started;
}

it('a state file naming a zombie supervisor: status says stale, and a new serve starts', async () => {
  dir = await tempDir('laplink-zombie-');
  const profile = join(dir, 'link.yaml');
  const stateDir = join(dir, 'state');
  await writeFile(profile, profileYaml('zlink'));
  const zombie = await makeZombie();
  await writeStateFile(stateDir, { name: 'zlink', state: 'up', since: new Date().toISOString(), supervisorPid: zombie, restarts: 0 });

  const status = await execa('node', [laplinkBin, 'status', 'zlink', '--state-dir', stateDir], { reject: false });
  expect(status.stdout).toContain(`stale (was up; supervisor ${zombie} gone)`);

  const { serve, output } = startServe(profile, stateDir);
  const up = await until('link up under the new supervisor', async () => {
    if (serve.exitCode !== null) throw new Error(`serve ended (${serve.exitCode}): ${output()}`);
    const s = await readStateFile(stateDir, 'zlink').catch(() => undefined);
    return s && s.supervisorPid === serve.pid && s.state === 'up' ? s : undefined;
  }, output);
  expect(output()).not.toContain('already supervised');
  // the stand-in pppd is this serve's child: killed with it if the test fails before the SIGTERM
  for (const line of (await readFile(join(dir, 'starts'), 'utf8')).trim().split('\n')) strayPids.push(Number.parseInt(line, 10));
  expect(up.pppdPid).toBeGreaterThan(0);
  serve.kill('SIGTERM');
  expect((await serve).exitCode).toBe(0);
});

it('a previous state file that is not a state (a FIFO) is said in one line and replaced; serve starts', async () => {
  dir = await tempDir('laplink-badstate-');
  const profile = join(dir, 'link.yaml');
  const stateDir = join(dir, 'state');
  await writeFile(profile, profileYaml('flink'));
  await mkdir(stateDir, { recursive: true });
  await execa('mkfifo', [join(stateDir, 'flink.json')]);
  const { serve, output } = startServe(profile, stateDir);
  await until('link up over the FIFO', async () => {
    if (serve.exitCode !== null) throw new Error(`serve ended (${serve.exitCode}): ${output()}`);
    const s = await readStateFile(stateDir, 'flink').catch(() => undefined);
    return s?.state === 'up' ? s : undefined;
  }, output);
  for (const line of (await readFile(join(dir, 'starts'), 'utf8')).trim().split('\n')) strayPids.push(Number.parseInt(line, 10));
  expect(output()).toContain(`flink: previous state file ignored: ${join(stateDir, 'flink.json')}: is a FIFO, not a regular file; not read\n`);
  serve.kill('SIGTERM');
  expect((await serve).exitCode).toBe(0);
});
