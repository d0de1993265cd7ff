/**
 * `laplink chat` as pppd's connect program: the line is fds 0 and 1 (the same tty, one open file
 * description shared with pppd). After we exit, that description must keep its flags (no O_NONBLOCK)
 * and its termios — checked with /usr/bin/python3 fcntl/termios on the very fd we handed over.
 * Also: bad input gives chat's exit status with one line, a signal ends the run with status 2.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LAPLINK_BIN, ptyPair, startPeer } from '../helpers/chat-harness.js';

const PY = '/usr/bin/python3';
const work = mkdtempSync(join(tmpdir(), 'chat-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** O_NONBLOCK bit and termios of the open file description behind `fd`, as another process sees them. */
function lineState(fd: number): string {
  const r = spawnSync(PY, ['-c', 'import fcntl,os,termios;print(fcntl.fcntl(0,fcntl.F_GETFL)&os.O_NONBLOCK, termios.tcgetattr(0))'], {
    stdio: [fd, 'pipe', 'pipe'],
  });
  if (r.status !== 0) throw new Error(`${PY} failed: ${r.stderr}`);
  return r.stdout.toString().trim();
}

function laplinkChat(args: string[], stdio: (number | 'pipe')[]): Promise<{ code: number | null; signal: string | null; stderr: string; kill: () => void }> {
  const child = spawn(process.execPath, [LAPLINK_BIN, 'chat', ...args], { stdio: stdio as never });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const kill = (): void => void child.kill('SIGTERM');
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr, kill })));
}

describe('laplink chat on a shared tty (pppd connect)', () => {
  it('leaves O_NONBLOCK clear and termios unchanged on the line after a full exchange', async () => {
    const p = await ptyPair();
    try {
      const fd = openSync(p.a, 'r+');
      const before = lineState(fd);
      expect(before.startsWith('0 ')).toBe(true);
      const peer = startPeer(p.b, [{ wait: 'AT\r' }, { send: 'OK\r\n' }]);
      const r = await laplinkChat(['-t', '20', '', 'AT', 'OK', 'ATD\\c'], [fd, fd, 'pipe']);
      peer.stop();
      expect(r.code, r.stderr).toBe(0);
      expect(lineState(fd)).toBe(before);
      closeSync(fd);
    } finally {
      await p.close();
    }
  });

  it('a signal (SIGTERM) ends the run with status 2, like chat', async () => {
    const p = await ptyPair();
    try {
      const fd = openSync(p.a, 'r+');
      const child = spawn(process.execPath, [LAPLINK_BIN, 'chat', '-v', '-s', '-t', '30', 'NEVER', 'x'], { stdio: [fd, fd, 'pipe'] });
      let stderr = '';
      let signalled = false;
      child.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
        // Signal only once the script runs (handlers are installed by then), however slow the machine;
        // and only once: a second SIGTERM landing after chat removed its handlers would kill it outright.
        if (!signalled && stderr.includes('expect (NEVER)')) {
          signalled = true;
          child.kill('SIGTERM');
        }
      });
      const code = await new Promise((r) => child.on('close', r));
      closeSync(fd);
      expect(code).toBe(2);
      expect(stderr.trim().split('\n').at(-1)).toBe('SIGTERM');
    } finally {
      await p.close();
    }
  });
});

describe('laplink chat bad input: chat exit status, one line, no stack trace', () => {
  const oneLine = (s: string): void => {
    expect(s.trim().split('\n')).toHaveLength(1);
    expect(s).not.toMatch(/\bat .*\.js:\d+/);
  };
  it('missing script file → 1', async () => {
    const r = await laplinkChat(['-f', join(work, 'nope.chat')], ['ignore' as never, 'ignore' as never, 'pipe']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/nope\.chat -- open failed: No such file or directory/);
    oneLine(r.stderr);
  });
  it('malformed script names script, line and token → 1, nothing sent', async () => {
    const file = join(work, 'bad.chat');
    writeFileSync(file, "'' AT\nOK \"ATD\n");
    const r = await laplinkChat(['-f', file], ['ignore' as never, 'ignore' as never, 'pipe']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('bad.chat:2: unterminated quote in token "\\"ATD"');
    oneLine(r.stderr);
  });
  it('unknown option → 1', async () => {
    const r = await laplinkChat(['-Q', '', 'x'], ['ignore' as never, 'ignore' as never, 'pipe']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('unknown option -Q');
    oneLine(r.stderr);
  });
  it('unknown preset → 1', async () => {
    const r = await laplinkChat(['--preset', 'dcc-server'], ['ignore' as never, 'ignore' as never, 'pipe']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('unknown preset "dcc-server"');
    oneLine(r.stderr);
  });
  it('device gone mid-script → 2 with one line', async () => {
    const p = await ptyPair();
    const fd = openSync(p.a, 'r+');
    const run = laplinkChat(['-t', '10', '', 'AT', 'OK', 'x'], [fd, fd, 'pipe']);
    const peer = startPeer(p.b, [{ wait: 'AT\r' }, { hangup: true }], () => p.hangup());
    const r = await run;
    peer.stop();
    closeSync(fd);
    await p.close();
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('device gone');
    oneLine(r.stderr);
  });
});
