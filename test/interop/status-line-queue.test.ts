/**
 * `status` shows a running link's line counters and its queue, read from the kernel: the tty's
 * TIOCGICOUNT (a pseudo-terminal keeps none, and status says so rather than failing) and the
 * interface's qdisc through the real `tc`. The links are state files written by the supervisor's own
 * writer for a device that is a real pty and the interface `lo` (this kernel has no PPP, so no
 * ppp0 exists; `lo` has a real queue that tc reports).
 */
import { execa } from 'execa';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeStateFile } from '../../src/pppd/state.js';
import { startPtyPair, type PtyPair } from '../helpers/ptypair.js';
import { laplinkBin, removeDir, tempDir } from '../helpers/supervisor-harness.js';
import { killWatch, startWatch, type WatchProcess } from '../helpers/status-watch.js';

let dir = '';
let pair: PtyPair | undefined;
let watcher: WatchProcess | undefined;
afterEach(async () => {
  await killWatch(watcher);
  watcher = undefined;
  await pair?.close();
  pair = undefined;
  await removeDir(dir);
});

const status = (args: string[]) => execa(process.execPath, [laplinkBin, 'status', ...args], { reject: false });

describe('status with line counters and the queue', () => {
  it('shows the line of an up link (a pty: no counters) and the queue of its interface, and never opens the line of a link in backoff', async () => {
    dir = await tempDir('laplink-status-line-');
    pair = await startPtyPair();
    const device = realpathSync(pair.a);
    const stateDir = join(dir, 'state');
    const now = new Date().toISOString();
    // pppdPid: a live process (this one), as the supervisor records the pppd it runs
    await writeStateFile(stateDir, { name: 'cable', state: 'up', since: now, supervisorPid: process.pid, pppdPid: process.pid, device, iface: 'lo', localIp: '192.168.7.1', remoteIp: '192.168.7.2', restarts: 0 });
    await writeStateFile(stateDir, { name: 'resting', state: 'backoff', since: now, supervisorPid: process.pid, device: '/dev/ttyS9', restarts: 2, nextRetry: new Date(Date.now() + 60_000).toISOString() });
    const plain = await status(['--state-dir', stateDir]);
    expect(plain.stderr).toBe('');
    expect(plain.stdout).toContain(`cable: line ${device}`);
    expect(plain.stdout).toContain('its driver keeps no counters (a pseudo-terminal)');
    expect(plain.stdout).toMatch(/cable: .*queue noqueue \(not shaped\): backlog 0 B \(0 packets\), 0 drops, 0 marks/);
    expect(plain.stdout).not.toMatch(/resting: .*line/);
    const json = JSON.parse((await status(['--state-dir', stateDir, '--json'])).stdout) as Array<Record<string, unknown>>;
    const cable = json.find((l) => l.name === 'cable')!;
    expect(cable.line).toMatchObject({ device, note: 'its driver keeps no counters (a pseudo-terminal)' });
    expect(cable.queue).toEqual({ managedBy: 'noqueue', shaped: false, backlogBytes: 0, backlogPackets: 0, drops: 0, marks: 0 });
    expect(json.find((l) => l.name === 'resting')).not.toHaveProperty('line');
    // the live view reads the same facts: its first JSON line carries them
    watcher = startWatch(['--state-dir', stateDir, '--json']);
    await watcher.waitFor('"queue":');
    const first = JSON.parse(watcher.output().split('\n')[0]!) as { links: Array<Record<string, unknown>> };
    const live = first.links.find((l) => l.name === 'cable')!;
    expect(live.line).toMatchObject({ device, note: 'its driver keeps no counters (a pseudo-terminal)' });
    expect(live.queue).toMatchObject({ managedBy: 'noqueue', shaped: false });
  });
});
