/**
 * chat engine bench: reply latency (last byte of an expected string arriving → first byte of the
 * reply at the peer) of `laplink chat` vs /usr/sbin/chat on the same kind of socat pty pair, and cold
 * start of `laplink chat -V ''` vs `chat -V ''` vs `node -e 0`. Ratios, not absolute goals.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { resolve } from 'node:path';
import { ReadStream } from 'node:tty';
import type { BenchSuite } from '../lib/suite.js';
import { startPtyPair } from '../../test/helpers/ptypair.js';

const REAL_CHAT = '/usr/sbin/chat';
const BIN = resolve(import.meta.dirname, '../../../bin/laplink.js');

/** The tests' pty pair, holding neither end, as the chat tests use it: chat is alone on its line. */
const ptyPair = () => startPtyPair({ holdEnds: false, timeoutMs: 10_000 });

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await done;
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

/** One chat process answers n expects; the peer times each reply. Returns latencies in ms. */
async function replyLatency(impl: 'real' | 'laplink', n: number): Promise<number[]> {
  const pair = await ptyPair();
  const fd = openSync(pair.a, 'r+');
  const script: string[] = [];
  // Exchange 0 is a warm-up (it also waits out the process start) and is not counted.
  for (let k = 0; k <= n; k++) script.push(`E${k}!`, `r\\c`);
  const [cmd, args] = impl === 'real' ? [REAL_CHAT, ['-t', '10', ...script]] : [process.execPath, [BIN, 'chat', '-t', '10', ...script]];
  const child = spawn(cmd, args, { stdio: [fd, fd, 'ignore'] });
  const peer = new ReadStream(openSync(pair.b, 'r+'));
  let waiting: (() => void) | undefined;
  peer.on('data', () => waiting?.());
  const out: number[] = [];
  try {
    for (let k = 0; k <= n; k++) {
      const got = new Promise<void>((r) => (waiting = r));
      const t0 = process.hrtime.bigint();
      peer.write(`E${k}!`);
      await got;
      if (k > 0) out.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  } finally {
    waiting = undefined;
    peer.destroy();
    await stop(child);
    closeSync(fd);
    await pair.close();
  }
  return out;
}

/** Wall time of spawn → exit, ms, for each of `n` runs with the pty side A as stdin/stdout. */
async function coldStart(cmd: string, args: string[], n: number, a: string): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const fd = openSync(a, 'r+');
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: [fd, fd, 'ignore'] });
    const code = await new Promise((r) => child.on('exit', r));
    out.push(Number(process.hrtime.bigint() - t0) / 1e6);
    closeSync(fd);
    if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${String(code)}`);
  }
  return out;
}

const suite: BenchSuite = {
  name: 'chat',
  async run({ quick }) {
    const n = quick ? 20 : 60;
    const real = await replyLatency('real', n);
    const ours = await replyLatency('laplink', n);
    const pair = await ptyPair();
    const runs = quick ? 5 : 20;
    let node: number[], lap: number[], chat: number[];
    try {
      // Interleaved, one run of each at a time, so load changes on a shared machine hit all three.
      node = [];
      lap = [];
      chat = [];
      for (let i = 0; i < runs; i++) {
        node.push(...(await coldStart(process.execPath, ['-e', '0'], 1, pair.a)));
        lap.push(...(await coldStart(process.execPath, [BIN, 'chat', '-V', ''], 1, pair.a)));
        chat.push(...(await coldStart(REAL_CHAT, ['-V', ''], 1, pair.a)));
      }
    } finally {
      await pair.close();
    }
    const f = (x: number): string => x.toFixed(2);
    return [
      `reply latency, ${n} samples each (ms; real chat sleeps 10 ms before every byte it writes)`,
      '',
      '| | p50 | p99 |',
      '|---|---|---|',
      `| /usr/sbin/chat | ${f(pct(real, 50))} | ${f(pct(real, 99))} |`,
      `| laplink chat | ${f(pct(ours, 50))} | ${f(pct(ours, 99))} |`,
      `| ratio laplink/chat (goal ≤ 1.0) | ${f(pct(ours, 50) / pct(real, 50))} | ${f(pct(ours, 99) / pct(real, 99))} |`,
      '',
      `cold start, ${runs} runs each, median ms (stdin/stdout = a pty)`,
      '',
      '| node -e 0 | chat -V \'\' | laplink chat -V \'\' | laplink / node -e 0 (goal ≤ 3) |',
      '|---|---|---|---|',
      `| ${f(pct(node, 50))} | ${f(pct(chat, 50))} | ${f(pct(lap, 50))} | ${f(pct(lap, 50) / pct(node, 50))} |`,
    ].join('\n');
  },
};
export default suite;
