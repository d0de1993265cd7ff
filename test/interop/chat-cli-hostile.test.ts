/**
 * `laplink chat` on inputs real chat survives (issue 18) and as people try it by hand (issue 14):
 * /dev/null as the line, /dev/full as the report file, timeouts past setTimeout's 2^31-1 ms, and
 * stdin/stdout as two separate opens of one tty. Each compared with /usr/sbin/chat where chat can run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { LAPLINK_BIN, ptyPair, REAL_CHAT, startPeer } from '../helpers/chat-harness.js';

interface Exit {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** Every chat still running: a test that fails or times out must not leave one waiting (some wait for days). */
const running = new Set<ChildProcess>();
afterEach(() => {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
});

function run(bin: 'laplink' | 'real', args: string[], stdio: (number | 'pipe' | 'ignore')[], onStderr?: (all: string) => void): Promise<Exit> {
  const child = bin === 'real' ? spawn(REAL_CHAT, args, { stdio: stdio as never }) : spawn(process.execPath, [LAPLINK_BIN, ...args], { stdio: stdio as never });
  running.add(child);
  child.on('close', () => running.delete(child));
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString('latin1')));
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString('latin1');
    onStderr?.(stderr);
  });
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

const noTrace = (r: Exit): void => {
  expect(r.stderr).not.toMatch(/\n\s+at |ERR_STREAM|internal error|node:events|Assertion/);
  expect(r.signal).toBeNull();
};

describe('laplink chat: hostile lines and files', () => {
  it('on /dev/null (20 runs): never a stack trace; exit 0 with nothing to expect, 2 (end of line) when waiting', async () => {
    const devnull = openSync('/dev/null', 'r+');
    try {
      for (let i = 0; i < 10; i++) {
        const sent = await run('laplink', ['chat', '-t1', '', 'x'], [devnull, devnull, 'pipe']);
        noTrace(sent);
        expect(sent.code, sent.stderr).toBe(0);
        const waiting = await run('laplink', ['chat', '-t1', 'OK', 'x'], [devnull, devnull, 'pipe']);
        noTrace(waiting);
        expect(waiting.code).toBe(2);
        expect(waiting.stderr.trim()).toBe('laplink chat: device gone (end of file on the line)');
      }
    } finally {
      closeSync(devnull);
    }
  });

  it('report file /dev/full: the report is lost, the run is not (as chat: exit 0)', async () => {
    const p = await ptyPair();
    try {
      const results: Exit[] = [];
      for (const bin of ['real', 'laplink'] as const) {
        const fd = openSync(p.a, 'r+');
        const peer = startPeer(p.b, [{ wait: 'ATD\r', ms: 15000 }, { send: 'CONNECT 9600\r\n' }]);
        const args = ['-v', '-r', '/dev/full', '-t', '10', 'REPORT', 'CONNECT', '', 'ATD', 'CONNECT', ''];
        results.push(await run(bin, bin === 'real' ? args : ['chat', ...args], [fd, fd, 'pipe']));
        peer.stop();
        closeSync(fd);
      }
      const [real, ours] = results as [Exit, Exit];
      expect(real.code).toBe(0);
      noTrace(ours);
      expect(ours.code, ours.stderr).toBe(real.code);
    } finally {
      await p.close();
    }
  });

  it('-t 2147484 (past 2^31-1 ms) still waits for the answer instead of timing out at once', async () => {
    const p = await ptyPair();
    try {
      const fd = openSync(p.a, 'r+');
      // The peer answers only once chat says it is waiting; with setTimeout's overflow chat has given
      // up (exit 3) 1 ms after "expect (OK)", long before the answer arrives.
      let answered = false;
      const peer = startPeer(p.b, [{ wait: 'AT\r', ms: 15000 }]);
      const r = await run('laplink', ['chat', '-v', '-s', '-t', '2147484', '', 'AT', 'OK', 'GO'], [fd, fd, 'pipe'], (all) => {
        if (!answered && all.includes('expect (OK)')) {
          answered = true;
          setTimeout(() => void openAndSend(p.b, 'OK\r\n'), 300);
        }
      }).finally(() => {
        peer.stop();
        closeSync(fd);
      });
      noTrace(r);
      expect(r.stderr).not.toContain('alarm');
      expect(r.code, r.stderr).toBe(0);
    } finally {
      await p.close();
    }
  });

  it('<tty >tty (two opens of one tty, fd 0 read-only) works as chat does', async () => {
    const p = await ptyPair();
    try {
      const results: Exit[] = [];
      const received: string[] = [];
      for (const bin of ['real', 'laplink'] as const) {
        const rd = openSync(p.a, 'r');
        const wr = openSync(p.a, 'w');
        const peer = startPeer(p.b, [{ wait: 'AT\r', ms: 15000 }, { send: 'OK\r\n' }, { wait: 'ATD\r', ms: 15000 }, { send: 'CONNECT\r\n' }, { wait: '\r', ms: 15000 }]);
        const args = ['-t', '10', '', 'AT', 'OK', 'ATD', 'CONNECT', ''];
        results.push(await run(bin, bin === 'real' ? args : ['chat', ...args], [rd, wr, 'pipe']));
        await peer.done;
        received.push(peer.received().toString('latin1'));
        peer.stop();
        closeSync(rd);
        closeSync(wr);
      }
      const [real, ours] = results as [Exit, Exit];
      expect(real.code).toBe(0);
      noTrace(ours);
      expect(ours.stderr).not.toContain('EPIPE');
      expect(ours.code, ours.stderr).toBe(0);
      expect(received[1]).toBe(received[0]);
    } finally {
      await p.close();
    }
  });
});

describe('laplink chat usage', () => {
  it('`laplink --help` lists chat', async () => {
    const r = await run('laplink', ['--help'], ['ignore', 'pipe', 'pipe']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {2}chat \[script\.\.\.\] +run a chat\(8\) script/m);
  });
  for (const args of [['chat', '--help'], ['chat', '-h'], ['help', 'chat']]) {
    it(`\`laplink ${args.join(' ')}\` prints chat's usage and options, exit 0`, async () => {
      const r = await run('laplink', args, ['ignore', 'pipe', 'pipe']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^usage: laplink chat \[-e\]/);
      expect(r.stdout).toContain('-t SECONDS');
      expect(r.stdout).toContain('--preset NAME');
      expect(r.stderr).toBe('');
    });
  }
});

function openAndSend(path: string, text: string): void {
  const fd = openSync(path, 'r+');
  const peer = startPeer(path, [{ send: text }]);
  void peer.done.then(() => setTimeout(() => (peer.stop(), closeSync(fd)), 200));
}
