import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import tty from 'node:tty';
import { openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';
import { writeStateFile } from '../../src/pppd/state.js';
import { telnetClient } from '../../src/bridge/telnet.js';
import { startPtyPair } from '../../test/helpers/ptypair.js';
import { processTree } from '../../test/helpers/proc.js';
import { ticks } from './watch.js';
import type { BenchSuite } from '../lib/suite.js';
import { sleep } from '../../src/runtime/sleep.js';

/**
 * `npm run bench -- web`: what the browser pages cost.
 *  - Keystroke echo: a key given to the console's terminal (xterm's input(), as a key press is) to
 *    the far end of a pty pair, which echoes it, and back into the terminal: p50/p95 in ms, beside a
 *    telnet client (our telnet codec on a plain socket) on the same `laplink bridge run` port.
 *    Target: p95 ≤ 20 ms on loopback.
 *  - An open status page left alone: CPU ticks of the `laplink web` process over a window after
 *    start-up settled (target 0: views are pushed on state changes, nothing is polled).
 * Chromium is Debian's, headless, driven by puppeteer-core.
 */

const SETTLED_AT_S = 30;

// What the page callbacks see in the browser (this project compiles without the DOM library).
declare const window: { laplink?: { role?: string; received: number; onReceive?: () => void; term: { input(data: string, user?: boolean): void } } };
declare const document: { getElementById(id: string): { textContent: string | null } | null };
const laplinkBin = () => join(packageRoot(), 'bin/laplink.js');

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function startCli(args: string[], pattern: RegExp): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(process.execPath, [laplinkBin(), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = pattern.exec(out);
      if (m) resolve({ child, match: m });
    });
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.once('exit', (code) => reject(new Error(`laplink ${args.join(' ')} exited ${code}: ${err}`)));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}

async function telnetEcho(port: number, n: number): Promise<number[]> {
  const sock = net.connect({ host: '127.0.0.1', port, noDelay: true });
  await new Promise((r) => sock.once('connect', r));
  const codec = telnetClient({ reply: (b) => void sock.write(b), line: () => undefined, log: () => undefined, flow: () => undefined });
  sock.write(codec.greeting());
  let waiting: (() => void) | undefined;
  sock.on('data', (c: Buffer) => {
    if (codec.decode(c).length) waiting?.();
  });
  await sleep(300); // negotiation settles
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      waiting = resolve;
      sock.write(codec.encode(Buffer.from('k')));
    });
    times.push(performance.now() - t0);
  }
  sock.destroy();
  return times;
}

const suite: BenchSuite = {
  name: 'web',
  async run({ quick }) {
    const { launch } = await import('puppeteer-core');
    const dir = await mkdtemp(join(tmpdir(), 'laplink-bench-web-'));
    const pair = await startPtyPair();
    const children: ChildProcess[] = [];
    const browser = await launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    try {
      // the far end echoes every byte, as a device's console does
      const far = new tty.ReadStream(openSync(pair.b, 'r+'));
      far.on('data', (c: Buffer) => far.write(c));
      const config = join(dir, 'bridge.yaml');
      await writeFile(config, `lock: false\ncontrol: 127.0.0.1:0\nports:\n  - name: cable0\n    device: ${pair.a}\n    listen: 127.0.0.1:0\n    protocol: telnet\n    maxConnections: 2\n`);
      const bridge = await startCli(['bridge', 'run', config], /cable0: listening on 127\.0\.0\.1:(\d+)\n(?:.*\n)*?control: listening on 127\.0\.0\.1:(\d+)\n/);
      children.push(bridge.child);
      const stateDir = join(dir, 'state');
      await writeStateFile(stateDir, { name: 'idle', state: 'up', since: new Date().toISOString(), supervisorPid: process.pid, restarts: 0 });
      const n = quick ? 50 : 300;

      // 1. keystroke echo, browser console then telnet client, on the same port
      const webCli = await startCli(['web', '--listen', '127.0.0.1:0', '--state-dir', stateDir, '--control', `127.0.0.1:${bridge.match[2]}`], /web: serving (http:\/\/[^/]+)\//);
      children.push(webCli.child);
      const page = await browser.newPage();
      await page.goto(`${webCli.match[1]}/console.html?port=${encodeURIComponent(`127.0.0.1:${bridge.match[1]}`)}`);
      await page.waitForFunction(() => window.laplink?.role === 'writer' && document.getElementById('state')?.textContent === 'open', { polling: 20 });
      const browserTimes = await page.evaluate(async (count: number) => {
        const l = window.laplink!;
        const times: number[] = [];
        for (let i = 0; i < count; i++) {
          const t0 = performance.now();
          // timed from the key to the echo's arrival, not by polling (nested timers clamp to 4 ms)
          await new Promise<void>((resolve) => {
            l.onReceive = resolve;
            l.term.input('k', true);
          });
          times.push(performance.now() - t0);
        }
        return times;
      }, n);
      await page.close();
      const telnetTimes = await telnetEcho(Number(bridge.match[1]), n);
      await stopChild(webCli.child);

      // 2. an open status page, nothing changing: the web server's CPU ticks
      const idleWeb = await startCli(['web', '--listen', '127.0.0.1:0', '--state-dir', stateDir], /web: serving (http:\/\/[^/]+)\//);
      children.push(idleWeb.child);
      const startedAt = Date.now();
      const status = await browser.newPage();
      await status.goto(`${idleWeb.match[1]}/`);
      await status.waitForSelector('[data-link="idle"]');
      await sleep(Math.max(0, SETTLED_AT_S * 1000 - (Date.now() - startedAt)));
      const seconds = quick ? 3 : 10;
      const pids = processTree(idleWeb.child.pid!);
      const t0 = await ticks(pids);
      await sleep(seconds * 1000);
      const idleTicks = (await ticks(pids)) - t0;
      far.destroy();

      const row = (name: string, t: number[]) => {
        const s = [...t].sort((a, b) => a - b);
        return `| ${name} | ${t.length} | ${quantile(s, 0.5).toFixed(2)} | ${quantile(s, 0.95).toFixed(2)} |`;
      };
      const p95 = quantile([...browserTimes].sort((a, b) => a - b), 0.95);
      return [
        'Keystroke echo through one `laplink bridge run` port (protocol telnet) to a pty whose far end echoes:',
        '',
        '| client | keys | p50 ms | p95 ms |',
        '|---|---|---|---|',
        row('browser console (Chromium → laplink web → bridge)', browserTimes),
        row('telnet client (socket → bridge)', telnetTimes),
        '',
        `goal: browser p95 ≤ 20 ms → ${p95 <= 20 ? 'met' : 'NOT met'}`,
        '',
        `An open status page, one idle link, no control port: laplink web used ${idleTicks} CPU ticks (10 ms) over ${seconds} s from ${SETTLED_AT_S} s after start (goal 0 → ${idleTicks === 0 ? 'met' : 'NOT met'}).`,
      ].join('\n');
    } finally {
      await browser.close();
      for (const c of children) await stopChild(c);
      await pair.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
};

export default suite;
