/**
 * Every pppd exit status through the supervisor. The pppd here is test/helpers/fake-pppd.mjs, a
 * STAND-IN that replays real pppd 2.4.9 log lines and exits with the chosen status, because this
 * machine's kernel has no PPP (the real pppd exits 4: see supervisor-cli.test.ts).
 */
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { pppdArgs } from '../../src/pppd/args.js';
import { exitPolicy } from '../../src/pppd/exit.js';
import type { LinkStatus } from '../../src/pppd/state.js';
import type { Supervisor } from '../../src/pppd/supervise.js';
import { startPtyPair, type PtyPair } from '../helpers/ptypair.js';
import { procAlive, removeDir, standInSupervisor, starts, tempDir, waitForState } from '../helpers/supervisor-harness.js';

let dir = '';
let sup: Supervisor | undefined;
let cable: PtyPair | undefined;
afterEach(async () => {
  vi.useRealTimers();
  await sup?.stop();
  sup = undefined;
  await cable?.close();
  cable = undefined;
  await removeDir(dir);
});

/** Records every state the supervisor passes through. */
function trace(s: Supervisor): LinkStatus[] {
  const seen: LinkStatus[] = [];
  s.on('state', (st) => seen.push(st));
  return seen;
}

/**
 * The expected action per exit status, written out by hand from pppd(8) EXIT STATUS (not read from
 * src/pppd/exit.ts, so a change of the product's policy fails here). The rule: a mistake retrying
 * cannot fix stops (1, 2, 3, 4, 6); a failure of the line, the peer or a script is retried with
 * backoff (7-11, 15, 17-19); a link that ended as links do is started again at once (0, 5, 12-14, 16).
 */
const PPPD_8_EXIT_STATUS: Record<number, { says: string; action: 'stop' | 'backoff' | 'respawn' }> = {
  0: { says: 'detached, or the connection was established and terminated at the peer\'s request', action: 'respawn' },
  1: { says: 'an immediately fatal error (system call failing, out of memory)', action: 'stop' },
  2: { says: 'an error in processing the options', action: 'stop' },
  3: { says: 'not setuid-root and the invoking user is not root', action: 'stop' },
  4: { says: 'the kernel does not support PPP', action: 'stop' },
  5: { says: 'terminated by SIGINT, SIGTERM or SIGHUP', action: 'respawn' },
  6: { says: 'the serial port could not be locked', action: 'stop' },
  7: { says: 'the serial port could not be opened', action: 'backoff' },
  8: { says: 'the connect script failed', action: 'backoff' },
  9: { says: 'the pty command could not be run', action: 'backoff' },
  10: { says: 'the PPP negotiation failed', action: 'backoff' },
  11: { says: 'the peer failed (or refused) to authenticate itself', action: 'backoff' },
  12: { says: 'established, terminated because it was idle', action: 'respawn' },
  13: { says: 'established, terminated because the connect time limit was reached', action: 'respawn' },
  14: { says: 'callback was negotiated, an incoming call should arrive shortly', action: 'respawn' },
  15: { says: 'terminated because the peer is not responding to echo requests', action: 'backoff' },
  16: { says: 'terminated by the modem hanging up', action: 'respawn' },
  17: { says: 'negotiation failed because serial loopback was detected', action: 'backoff' },
  18: { says: 'the init script failed', action: 'backoff' },
  19: { says: 'we failed to authenticate ourselves to the peer', action: 'backoff' },
};

describe('stand-in pppd: each exit status 0-19 gets its policy', () => {
  it.each(Array.from({ length: 20 }, (_, i) => i))('status %i', async (code) => {
    dir = await tempDir();
    const policy = exitPolicy(code);
    const expected = PPPD_8_EXIT_STATUS[code]!;
    const device = join(dir, 'ttyS0');
    await writeFile(device, ''); // present, so 7 is a plain open failure (backoff), not a missing device
    if (code === 6) {
      await mkdir(join(dir, 'lock'));
      await writeFile(join(dir, 'lock', 'LCK..ttyS0'), `${String(process.pid).padStart(10)}\n`);
    }
    sup = standInSupervisor(dir, { FAKE_PPPD_SEQUENCE: `exit:${code},up-hold` }, { device: code === 6 ? '/dev/ttyS0' : device, args: pppdArgs({ name: 'testlink', root: dir, device }) });
    if (code === 6) sup = standInSupervisor(dir, { FAKE_PPPD_SEQUENCE: `exit:${code},up-hold` }, { device: '/dev/ttyS0', args: pppdArgs({ name: 'testlink', root: dir }) });
    const seen = trace(sup);
    const logs: string[] = [];
    sup.on('log', (l) => logs.push(l));
    const done = sup.run();
    if (expected.action === 'stop') {
      const final = await done;
      expect(final.state).toBe('failed');
      expect(final.lastExit?.code).toBe(code);
      expect((await starts(dir)).length).toBe(1);
      expect(final.message).toContain('not restarting');
      if (code === 6) expect(final.message).toContain(`locked by pid ${process.pid}`);
      else expect(final.message).toContain(policy.remedy);
      return;
    }
    // some statuses (0, 12, 13, 15, 16) end a link that was up: wait for the second run's link
    const up = await Promise.race([
      waitForState(sup, (s) => s.state === 'up' && s.restarts === 1),
      done.then((f) => {
        throw new Error(`status ${code} (${expected.says}): the supervisor ended (${f.state}) instead of ${expected.action}`);
      }),
    ]);
    expect(up.localIp).toBe('192.168.7.1');
    expect((await starts(dir)).length).toBe(2);
    const down = seen.find((s) => s.state === 'down');
    expect(down?.lastExit?.code).toBe(code);
    expect(down?.lastExit?.meaning).toBe(policy.meaning);
    const backedOff = seen.some((s) => s.state === 'backoff');
    expect(backedOff, `status ${code} (${expected.says}) should ${expected.action}`).toBe(expected.action === 'backoff');
    if (code === 17) expect(down?.lastExit?.reason).toMatch(/echoes back/);
    expect(up.restarts).toBe(1);
  });

  it('a one-shot client (connect without --persist) makes one call and is done', async () => {
    dir = await tempDir();
    sup = standInSupervisor(dir, { FAKE_PPPD_SCENARIO: 'up-hangup' }, { oneShot: true });
    const final = await sup.run();
    expect(final.state).toBe('done');
    expect(final.lastExit?.code).toBe(16);
    expect((await starts(dir)).length).toBe(1);
  });
});

describe('stand-in pppd: state machine order from pppd lines (async iterator API)', () => {
  it.each([
    [false, ['starting', 'negotiating', 'up', 'down', 'starting']],
    [true, ['handshaking', 'negotiating', 'up', 'down', 'handshaking']],
  ] as const)('connect script %s', async (hasConnectScript, want) => {
    dir = await tempDir();
    sup = standInSupervisor(dir, { FAKE_PPPD_SEQUENCE: 'up-hangup,up-hold' }, { hasConnectScript });
    const ac = new AbortController();
    const states: string[] = [];
    void sup.run();
    try {
      for await (const [s] of sup.states(ac.signal)) {
        if (states.at(-1) !== s.state) states.push(s.state);
        if (states.length === want.length) ac.abort();
      }
    } catch (err) {
      if ((err as Error).name !== 'AbortError') throw err;
    }
    expect(states).toEqual(want);
  });
});

describe('stand-in pppd: backoff timing (vitest fake timers)', () => {
  it('retries after 1 s, then 2 s, not a millisecond earlier', async () => {
    dir = await tempDir();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    sup = standInSupervisor(dir, { FAKE_PPPD_SEQUENCE: 'exit:8,exit:8,up-hold' }, { backoff: { initialMs: 1000, maxMs: 60_000, factor: 2, jitter: 0 } });
    let spawns = 0;
    sup.on('spawn', () => spawns++);
    const backoffs: LinkStatus[] = [];
    const gotBackoff = () =>
      new Promise<void>((resolve) => {
        const on = (s: LinkStatus) => {
          if (s.state === 'backoff') {
            backoffs.push(s);
            sup!.off('state', on);
            resolve();
          }
        };
        sup!.on('state', on);
      });
    let next = gotBackoff();
    void sup.run();
    await next; // first exit 8: real process I/O, no timers involved
    expect(spawns).toBe(1);
    next = gotBackoff();
    await vi.advanceTimersByTimeAsync(999);
    expect(spawns).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(spawns).toBe(2);
    await next;
    await vi.advanceTimersByTimeAsync(1999);
    expect(spawns).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(spawns).toBe(3);
    expect(backoffs.map((b) => b.message)).toEqual(['retry 1 in 1.0 s', 'retry 2 in 2.0 s']);
    vi.useRealTimers();
    await waitForState(sup, 'up');
  });

  it('a link that stayed up long enough resets the backoff; a short one does not', async () => {
    for (const [resetAfterMs, second] of [[0, 'retry 1 in 0.1 s'], [3_600_000, 'retry 2 in 0.2 s']] as const) {
      dir = await tempDir();
      sup = standInSupervisor(dir, { FAKE_PPPD_SEQUENCE: 'exit:8,up-hangup,exit:8,up-hold' }, { resetAfterMs, backoff: { initialMs: 100, maxMs: 10_000, factor: 2, jitter: 0 } });
      const seen = trace(sup);
      void sup.run();
      await waitForState(sup, (s) => s.state === 'up' && s.restarts === 3);
      expect(seen.filter((s) => s.state === 'backoff').map((s) => s.message)).toEqual(['retry 1 in 0.1 s', second]);
      await sup.stop();
      await removeDir(dir);
    }
  });
});

describe('stand-in pppd: respawning too fast', () => {
  it('pauses after N starts inside the window, with a clear message, and stop() ends the pause', async () => {
    dir = await tempDir();
    sup = standInSupervisor(dir, { FAKE_PPPD_SCENARIO: 'exit:16' }, { tooFast: { starts: 5, windowMs: 120_000, pauseMs: 600_000 } });
    const done = sup.run();
    const paused = await waitForState(sup, 'paused');
    expect(paused.message).toMatch(/respawning too fast \(5 starts in 120 s\): paused until /);
    expect((await starts(dir)).length).toBe(5);
    await sup.stop();
    expect((await done).state).toBe('stopped');
    expect((await starts(dir)).length).toBe(5);
  });
});

describe('stand-in pppd: hot-plug of the device (socat pty link)', () => {
  it('waits for the device, starts when it appears, waits again when it is removed', async () => {
    dir = await tempDir();
    const dev = join(dir, 'a'); // the shared pty pair's link to its end a
    sup = standInSupervisor(dir, { FAKE_PPPD_SCENARIO: 'up-hold' }, { device: dev, args: pppdArgs({ name: 'testlink', root: dir, device: dev }) });
    void sup.run();
    await waitForState(sup, 'waiting-for-device');
    expect((await starts(dir)).length).toBe(0);
    cable = await startPtyPair({ dir });
    const up = await waitForState(sup, 'up');
    expect(up.device).toBe(dev);
    await cable.hangup(); // the adapter is unplugged: socat ends and removes the link
    const waiting = await waitForState(sup, 'waiting-for-device');
    expect(waiting.lastExit?.code).toBe(16);
    expect(existsSync(dev)).toBe(false);
  });

  it('a device whose directory does not exist yet is found once directory and device appear', async () => {
    dir = await tempDir();
    const dev = join(dir, 'by-id', 'usb-adapter');
    sup = standInSupervisor(dir, { FAKE_PPPD_SCENARIO: 'up-hold' }, { device: dev });
    void sup.run();
    await waitForState(sup, 'waiting-for-device');
    await mkdir(join(dir, 'by-id'));
    await writeFile(dev, '');
    await waitForState(sup, 'up');
  });

  it('exit 7 on a missing device waits for it instead of backing off', async () => {
    dir = await tempDir();
    const dev = join(dir, 'ttyUSB0');
    await writeFile(dev, '');
    sup = standInSupervisor(dir, { FAKE_PPPD_SEQUENCE: 'exit:7,up-hold' }, { device: dev });
    const seen = trace(sup);
    const rmOnSpawn = sup.once('spawn', () => void rm(dev));
    void rmOnSpawn;
    void sup.run();
    await waitForState(sup, 'waiting-for-device');
    expect(seen.some((s) => s.state === 'backoff')).toBe(false);
    await writeFile(dev, '');
    await waitForState(sup, 'up');
  });
});

describe('stand-in pppd: stop', () => {
  it('SIGTERM ends pppd (exit 5) and its connect-script child; nothing left in /proc', async () => {
    dir = await tempDir();
    sup = standInSupervisor(dir, { FAKE_PPPD_SCENARIO: 'up-hold', FAKE_PPPD_CHILD: '1' });
    const done = sup.run();
    const up = await waitForState(sup, 'up');
    const pid = up.pppdPid!;
    const kids = await import('../helpers/supervisor-harness.js').then((h) => h.procChildren(pid));
    expect(kids.length).toBe(1);
    await sup.stop();
    const final = await done;
    expect(final.state).toBe('stopped');
    expect(await procAlive(pid)).toBe(false);
    for (const k of kids) expect(await procAlive(k)).toBe(false);
  });

  it('a pppd ignoring SIGTERM is killed after the grace period, children too', async () => {
    dir = await tempDir();
    const dev = join(dir, 'ttyS7');
    await writeFile(dev, '');
    await mkdir(join(dir, 'lock'));
    sup = standInSupervisor(dir, { FAKE_PPPD_SCENARIO: 'up-hold', FAKE_PPPD_IGNORE_TERM: '1', FAKE_PPPD_CHILD: '1', FAKE_PPPD_LOCKDIR: join(dir, 'lock') }, { graceMs: 300, device: dev, args: pppdArgs({ name: 'testlink', root: dir, device: dev }) });
    const logs: string[] = [];
    sup.on('log', (l) => logs.push(l));
    const done = sup.run();
    const up = await waitForState(sup, 'up');
    const kids = await import('../helpers/supervisor-harness.js').then((h) => h.procChildren(up.pppdPid!));
    await sup.stop();
    await done;
    expect(logs.some((l) => /still running 300 ms after SIGTERM: SIGKILL/.test(l))).toBe(true);
    // the killed pppd could not remove its UUCP lock: the supervisor released it
    expect(existsSync(join(dir, 'lock', 'LCK..ttyS7'))).toBe(false);
    expect(logs.some((l) => l.includes(`removed the stale lock ${join(dir, 'lock', 'LCK..ttyS7')} of pppd pid ${up.pppdPid}`))).toBe(true);
    expect(await procAlive(up.pppdPid!)).toBe(false);
    for (const k of kids) expect(await procAlive(k)).toBe(false);
  });
});
