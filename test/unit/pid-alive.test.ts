/**
 * The one liveness test: a zombie made on purpose (a child whose parent exec'd into a program that
 * never calls wait) answers signal 0 but is not alive, for pidAlive and for the `status` stale rule.
 */
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { afterEach, expect, it } from 'vitest';
import { pidAlive } from '../../src/pid.js';
import { isStale } from '../../src/status/table.js';

let parent: ReturnType<typeof execa> | undefined;
afterEach(async () => {
  parent?.kill('SIGKILL');
  await parent?.catch(() => undefined);
  parent = undefined;
});

/** A zombie's pid: python forks a child that exits at once, prints its pid and sleeps without ever
 *  calling wait. Waits until /proc says Z, so the assertion is about a zombie, not a race. */
const ZOMBIE_PARENT = 'import os, sys, time\npid = os.fork()\nif pid == 0: os._exit(0)\nprint(pid, flush=True)\ntime.sleep(60)\n';
async function makeZombie(): Promise<number> {
  parent = execa('python3', ['-c', ZOMBIE_PARENT], { reject: false });
  const pid = await new Promise<number>((resolve) => parent!.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  for (;;) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return pid;
    await new Promise((r) => setTimeout(r, 10));
  }
}

it('a zombie is not alive, though signal 0 still reaches it', async () => {
  const zombie = await makeZombie();
  expect(() => process.kill(zombie, 0), 'the kernel still has the pid').not.toThrow();
  expect(pidAlive(zombie)).toBe(false);
  expect(pidAlive(parent!.pid)).toBe(true);
  expect(pidAlive(process.pid)).toBe(true);
  expect(pidAlive(1), 'pid 1 exists (EPERM for a non-root user counts as alive)').toBe(true);
});

it('a link whose supervisor is a zombie is stale', async () => {
  const zombie = await makeZombie();
  expect(isStale({ name: 'z', state: 'up', since: new Date().toISOString(), supervisorPid: zombie, restarts: 0 })).toBe(true);
});

it('no pid, zero, negative and fractional pids are not alive', () => {
  for (const pid of [undefined, 0, -1, 1.5, Number.NaN]) expect(pidAlive(pid), String(pid)).toBe(false);
});
