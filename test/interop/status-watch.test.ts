/**
 * `laplink status --watch` as a person and a script meet it: on a real pseudo-terminal (python3's pty
 * module, test/helpers/pty-run.py), on a pipe, as JSON Lines, beside a real `laplink bridge run`.
 * State files are written by the supervisor's own writer (temp file + rename into place). The
 * supervisor pid in them is this test process, so the links are not stale. Runs the built CLI.
 */
import { execa } from 'execa';
import { mkdir, rm as rmFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readStateFile, removeStateFile, writeStateFile, type LinkStatus } from '../../src/pppd/state.js';
import { ENTER_SCREEN, LEAVE_SCREEN } from '../../src/status/terminal.js';
import { bridgeRig, connectTcp, startCli, stop, waitUntil } from '../helpers/bridge.js';
import { startWatch, type WatchProcess } from '../helpers/status-watch.js';
import { laplinkBin, removeDir, repoRoot, standInSupervisor, tempDir, waitForState } from '../helpers/supervisor-harness.js';

const { cleanups, pair } = bridgeRig();
let dir = '';
const watchers: WatchProcess[] = [];
afterEach(async () => {
  for (const w of watchers.splice(0)) {
    if (w.proc.exitCode === null && w.proc.signalCode === null) {
      w.proc.kill('SIGKILL');
      await w.exit;
    }
  }
  await removeDir(dir);
});

const link = (over: Partial<LinkStatus>): LinkStatus => ({ name: 'link-a', state: 'up', since: new Date().toISOString(), supervisorPid: process.pid, restarts: 0, ...over });
const GREEN = '\x1b[32m';
const YELLOW = '\x1b[33m';
const TTY = { cols: 160, rows: 30 };
/** No colour variable from the outer environment decides these tests; TERM names a colour terminal. */
const colourEnv = { NO_COLOR: undefined, FORCE_COLOR: undefined, NODE_DISABLE_COLORS: undefined, TERM: 'xterm-256color' };

function watch(args: string[], start: Parameters<typeof startWatch>[1] = {}): WatchProcess {
  const w = startWatch(args, start);
  watchers.push(w);
  return w;
}

describe('status --watch on a terminal', () => {
  it('redraws on a renamed-in state file, in colour, leaves on q with the terminal restored', async () => {
    dir = await tempDir('laplink-watch-');
    const state = join(dir, 'state');
    await mkdir(state);
    const w = watch([], { tty: TTY, env: colourEnv, shell: `"${process.execPath}" "${laplinkBin}" status --watch --state-dir "${state}"; echo "watch-exit=$?"; stty -a` });
    let at = await w.waitFor(`no links in ${state} yet`);
    expect(w.output().startsWith(ENTER_SCREEN)).toBe(true);

    await writeStateFile(state, link({ state: 'up', localIp: '192.168.7.1', remoteIp: '192.168.7.2', lastExit: { code: 16, meaning: 'line hung up', at: new Date().toISOString() }, restarts: 2 }));
    at = await w.waitFor(`${GREEN}up\x1b[39m`, at);
    const upScreen = w.output().slice(at);
    await w.waitFor('1 link: 1 up', at);
    expect(w.output().slice(at)).toMatch(/192\.168\.7\.1 <-> 192\.168\.7\.2/);
    expect(upScreen + w.output().slice(at)).toMatch(/restarts 2 {2}last exit 16 line hung up/);

    await writeStateFile(state, link({ state: 'backoff', nextRetry: new Date(Date.now() + 30_000).toISOString(), restarts: 3 }));
    at = await w.waitFor(`${YELLOW}backoff\x1b[39m`, at);
    at = await w.waitFor(/next retry in (\d+) s/, at);
    // the countdown ticks by itself: a later redraw shows a smaller number
    const first = Number([...w.output().slice(0, at).matchAll(/next retry in (\d+) s/g)].at(-1)![1]);
    await w.waitFor(new RegExp(`next retry in (${Array.from({ length: first - 1 }, (_, i) => i + 1).join('|')}) s`), at);

    w.type('q');
    expect(await w.exit).toBe(0);
    const out = w.output();
    expect(out).toContain('watch-exit=0');
    const tail = out.slice(out.lastIndexOf('\x1b[J'));
    expect(tail).toContain(LEAVE_SCREEN); // cursor shown, normal screen back, after the last draw
    const stty = out.slice(out.indexOf('watch-exit=0'));
    expect(stty).toMatch(/(^|\s)icanon(\s|$)/m); // raw mode undone: line editing and echo are back
    expect(stty).toMatch(/(^|\s)echo(\s|$)/m);
  });

  it('has no colour with NO_COLOR or --no-color, and SIGTERM restores the terminal', async () => {
    dir = await tempDir('laplink-watch-');
    const state = join(dir, 'state');
    await writeStateFile(state, link({ state: 'failed' }));
    for (const [args, env] of [[[], { ...colourEnv, NO_COLOR: '1' }], [['--no-color'], colourEnv]] as const) {
      const w = watch(['--state-dir', state, ...args], { tty: TTY, env });
      await w.waitFor('1 link: 1 failed');
      expect(w.output()).not.toMatch(/\x1b\[3\dm/);
      process.kill(await w.pid, 'SIGTERM');
      expect(await w.exit).toBe(0);
      expect(w.output().slice(w.output().lastIndexOf('\x1b[J'))).toContain(LEAVE_SCREEN);
    }
    // and with colour allowed, the same failed link is red: the two runs above differ by the variable
    const red = watch(['--state-dir', state], { tty: TTY, env: colourEnv });
    await red.waitFor('\x1b[31mfailed\x1b[39m');
    red.type('\x03'); // Ctrl-C in raw mode is a byte, not a signal
    expect(await red.exit).toBe(0);
    expect(red.output().endsWith(LEAVE_SCREEN)).toBe(true);
  });
});

describe('the full screen on an exception', () => {
  it('an uncaught exception restores the terminal before Node prints it', async () => {
    dir = await tempDir('laplink-watch-');
    const terminalJs = join(repoRoot, 'dist/src/status/terminal.js');
    const script = join(dir, 'throws.mjs');
    await writeFile(script, `import { FullScreen } from ${JSON.stringify(terminalJs)};\nnew FullScreen(process.stdout, process.stdin, () => {}).enter();\nsetTimeout(() => { throw new Error('boom from the test'); }, 50);\n`);
    const w = watch([], { tty: TTY, shell: `"${process.execPath}" "${script}"; echo "node-exit=$?"; stty -a` });
    expect(await w.exit).toBe(0); // the shell's
    const out = w.output();
    expect(out.startsWith(ENTER_SCREEN)).toBe(true);
    expect(out).toContain('node-exit=1');
    const leave = out.indexOf(LEAVE_SCREEN);
    expect(leave).toBeGreaterThan(0);
    expect(out.indexOf('boom from the test')).toBeGreaterThan(leave); // restored before Node printed the error
    expect(out.slice(out.indexOf('node-exit=1'))).toMatch(/(^|\s)icanon(\s|$)/m);
  });
});

describe('status --watch on a pipe', () => {
  it('prints one plain line per change, with no escape codes', async () => {
    dir = await tempDir('laplink-watch-');
    const state = join(dir, 'state');
    await mkdir(state);
    const w = watch(['--state-dir', state]);
    let at = await w.waitFor('\n');
    await writeStateFile(state, link({ state: 'starting' }));
    at = await w.waitFor(/link-a {2}starting[^\n]*\n/, at);
    await writeStateFile(state, link({ state: 'up', iface: 'ppp9', localIp: '10.0.0.1', remoteIp: '10.0.0.2' }));
    at = await w.waitFor(/link-a {2}up[^\n]*10\.0\.0\.1 <-> 10\.0\.0\.2[^\n]*\n/, at);
    await removeStateFile(state, 'link-a');
    at = await w.waitFor('link-a  gone (state file removed)\n', at);
    await w.waitFor('no links in', at);
    w.proc.kill('SIGTERM');
    expect(await w.exit).toBe(0);
    const lines = w.output().trimEnd().split('\n');
    expect(lines.map((l) => l.replace(/^\S+ /, '').replace(/ {2}since.*/, ''))).toEqual([`no links in ${state} yet`, 'link-a  starting', 'link-a  up', 'link-a  gone (state file removed)', `no links in ${state} yet`]);
    expect(w.output()).not.toContain('\x1b');
  });

  it('--json prints one JSON object per change, in order', async () => {
    dir = await tempDir('laplink-watch-');
    const state = join(dir, 'state');
    await mkdir(state);
    const w = watch(['--state-dir', state, '--json']);
    let at = await w.waitFor('\n');
    const states: LinkStatus['state'][] = ['starting', 'negotiating', 'up', 'down', 'backoff'];
    for (const s of states) {
      await writeStateFile(state, link({ state: s }));
      at = await w.waitFor(new RegExp(`"state":"${s}"[^\\n]*\\n`), at);
    }
    w.proc.kill('SIGTERM');
    expect(await w.exit).toBe(0);
    const views = w.output().trimEnd().split('\n').map((l) => JSON.parse(l) as { links: Array<{ state: string; stale: boolean }> });
    expect(views.map((v) => v.links.map((l) => l.state).join())).toEqual(['', ...states]);
    expect(views.every((v) => v.links.every((l) => l.stale === false))).toBe(true);
  });

  it('waits for a state directory that does not exist yet; refuses one whose parent is missing', async () => {
    dir = await tempDir('laplink-watch-');
    const state = join(dir, 'later');
    const w = watch(['--state-dir', state]);
    const at = await w.waitFor(`waiting for ${state} to be created`);
    await writeStateFile(state, link({ state: 'starting' })); // the supervisor's mkdir -p, then the file
    await w.waitFor(/link-a {2}starting/, at);
    w.proc.kill('SIGTERM');
    expect(await w.exit).toBe(0);

    const missing = join(dir, 'no', 'such');
    const r = await execa(process.execPath, [laplinkBin, 'status', '--watch', '--state-dir', missing], { reject: false });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe(`laplink: --state-dir: ${missing} does not exist, nor does its parent ${join(dir, 'no')}`);
    const badName = await execa(process.execPath, [laplinkBin, 'status', '--watch', '../x', '--state-dir', dir], { reject: false });
    expect(badName.exitCode).toBe(2);
    expect(badName.stderr).toMatch(/^laplink: status: "\.\.\/x" is not a link name/);
    const badControl = await execa(process.execPath, [laplinkBin, 'status', '--watch', '--control', 'nowhere', '--state-dir', dir], { reject: false });
    expect(badControl.exitCode).toBe(2);
    expect(badControl.stderr).toBe('laplink: --control: "nowhere" is not HOST:PORT');
    const noWatch = await execa(process.execPath, [laplinkBin, 'status', '--control', '127.0.0.1:7000', '--state-dir', dir], { reject: false });
    expect(noWatch.exitCode).toBe(2);
    expect(noWatch.stderr).toBe('laplink: status: --control needs --watch (bridge ports are shown in the live view)');
  });
});

describe('status --watch with bridge ports', () => {
  it('shows the ports of a real `bridge run`, a client arriving, and an unreachable control port as one line', async () => {
    dir = await tempDir('laplink-watch-');
    const state = join(dir, 'state');
    await writeStateFile(state, link({ state: 'up' }));
    const p = await pair();
    const config = join(dir, 'bridge.yaml');
    await writeFile(config, `lock: false\ncontrol: 127.0.0.1:0\nports:\n  - name: cable0\n    device: ${p.a}\n    listen: 127.0.0.1:0\n`);
    const bridge = await startCli(['bridge', 'run', config], /control: listening on 127\.0\.0\.1:(\d+)\n/);
    cleanups.push(() => stop(bridge.proc));
    const controlPort = Number(bridge.match[1]);
    // a port nobody listens on: bound, then closed
    const gone = net.createServer();
    await new Promise<void>((r) => gone.listen(0, '127.0.0.1', r));
    const deadPort = (gone.address() as net.AddressInfo).port;
    await new Promise<void>((r) => gone.close(() => r()));

    const w = watch(['--state-dir', state, '--json', '--control', `127.0.0.1:${controlPort}`, '--control', `127.0.0.1:${deadPort}`]);
    let at = await w.waitFor('\n');
    type View = { links: Array<{ state: string }>; bridges: Array<{ control: string; error?: string; ports: Array<{ port: string; device: string; clients: string[] }> }> };
    const first = JSON.parse(w.output().slice(0, at)) as View;
    expect(first.links.map((l) => l.state)).toEqual(['up']);
    expect(first.bridges[0]!.ports).toMatchObject([{ name: 'cable0', device: p.a, clients: [] }]);
    expect(first.bridges[1]).toMatchObject({ control: `127.0.0.1:${deadPort}`, error: 'ECONNREFUSED', ports: [] });

    const dataPort = Number(first.bridges[0]!.ports[0]!.port);
    const client = await connectTcp(dataPort);
    cleanups.push(() => void client.destroy());
    at = await w.waitFor(/"clients":\["127\.0\.0\.1:\d+"\][^\n]*\n/, at);
    // the watcher kept going past the dead control port, and still sees state changes
    await writeStateFile(state, link({ state: 'down' }));
    await w.waitFor(/"state":"down"/, at);
    w.proc.kill('SIGTERM');
    expect(await w.exit).toBe(0);
  });

  it('draws bridge ports on the screen too', async () => {
    dir = await tempDir('laplink-watch-');
    const state = join(dir, 'state');
    await mkdir(state);
    const p = await pair();
    const srv = await startCli(['bridge', 'serve', p.a, '--listen', '127.0.0.1:0', '--no-lock', '--control', '127.0.0.1:0'], /control: listening on 127\.0\.0\.1:(\d+)\n/);
    cleanups.push(() => stop(srv.proc));
    const w = watch(['--state-dir', state, '--control', `127.0.0.1:${srv.match[1]}`], { tty: TTY, env: { ...colourEnv, NO_COLOR: '1' } });
    await w.waitFor(new RegExp(`bridge 127\\.0\\.0\\.1:${srv.match[1]}: 1 port\\x1b\\[K\\r\\n {2}\\d+ ${p.a.replace(/[/.]/g, '\\$&')} raw {2}no client`));
    w.type('q');
    expect(await w.exit).toBe(0);
    await rmFile(state, { recursive: true });
  });
});

describe('status --watch and the supervisor', () => {
  it('the supervisor writes nextRetry in backoff, and the watch counts down to it', async () => {
    // pppd is test/helpers/fake-pppd.mjs, a STAND-IN (this kernel has no PPP): it exits 10 (negotiation failed) at once
    dir = await tempDir('laplink-watch-');
    const sup = standInSupervisor(dir, { FAKE_PPPD_SCENARIO: 'exit:10' }, { backoff: { initialMs: 30_000, maxMs: 30_000, jitter: 0 } });
    const running = sup.run();
    try {
      const backoff = await waitForState(sup, 'backoff');
      // the file follows the event (written atomically after it): wait for it to say so
      await waitUntil(async () => (await readStateFile(join(dir, 'state'), 'testlink'))?.state === 'backoff', 'state file in backoff', 10_000, 20);
      const onDisk = (await readStateFile(join(dir, 'state'), 'testlink'))!;
      const retryAt = Date.parse(onDisk.nextRetry!);
      // since and nextRetry come from two clock reads in one call: the backoff, give or take those
      expect(Math.abs(retryAt - Date.parse(backoff.since) - 30_000)).toBeLessThan(1000);
      const w = watch(['--state-dir', join(dir, 'state'), '--json']);
      const at = await w.waitFor('\n');
      const view = JSON.parse(w.output().slice(0, at)) as { links: Array<{ state: string; retryInSeconds?: number; nextRetry?: string }> };
      expect(view.links[0]).toMatchObject({ state: 'backoff', nextRetry: onDisk.nextRetry });
      // whole seconds left, counted from the supervisor's time, never more than the backoff
      expect(view.links[0]!.retryInSeconds).toBeGreaterThan(0);
      expect(view.links[0]!.retryInSeconds).toBeLessThanOrEqual(30);
      w.proc.kill('SIGTERM');
      expect(await w.exit).toBe(0);
    } finally {
      await sup.stop();
      await running;
    }
  });
});
