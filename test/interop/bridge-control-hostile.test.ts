/**
 * The control port under pipelined and hostile input (issue 18), against a real `laplink bridge serve`:
 * many complete commands in one write are all answered in order; only an overlong single line is
 * refused (and the session goes on); a client that sends commands and never reads is paused, its
 * answers are not buffered without bound.
 */
import fs from 'node:fs';
import type net from 'node:net';
import { describe, expect, it } from 'vitest';
import { ask, bridgeRig, connectTcp, openControl, startCli, stop, waitUntil } from '../helpers/bridge.js';

const rig = bridgeRig();

async function serveWithControl(): Promise<{ port: number; pid: number }> {
  const p = await rig.pair();
  const srv = await startCli(['bridge', 'serve', p.a, '--listen', '127.0.0.1:0', '--no-lock', '--control', '127.0.0.1:0'], /control: listening on 127\.0\.0\.1:(\d+)\n/);
  rig.cleanups.push(() => stop(srv.proc));
  return { port: Number(srv.match[1]), pid: srv.proc.pid! };
}

/** Reads from `sock` until `count` prompts arrived after the first; resolves with the text. */
function prompts(sock: net.Socket, count: number, ms = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    let seen = 0;
    const timer = setTimeout(() => reject(new Error(`only ${seen}/${count} prompts within ${ms} ms`)), ms);
    sock.on('data', (c: Buffer) => {
      const s = c.toString('latin1');
      text += s;
      seen += s.split('-> ').length - 1;
      if (seen >= count) {
        clearTimeout(timer);
        resolve(text);
      }
    });
  });
}

describe('control port: pipelined and hostile input', () => {
  it('answers 700 pipelined help lines sent in one 4,200-byte write, then LF/CRLF lines cut mid-line', async () => {
    const { port } = await serveWithControl();
    const ctl = await openControl(port);
    let got = prompts(ctl, 700);
    ctl.write('help\r\n'.repeat(700));
    expect((await got).split('exit - leave the control port').length - 1).toBe(700);
    ctl.removeAllListeners('data');
    const mixed = Array.from({ length: 300 }, (_, i) => (i % 2 ? 'help\r\n' : 'help\n')).join('');
    got = prompts(ctl, 300);
    for (let at = 0; at < mixed.length; at += 7) ctl.write(mixed.slice(at, at + 7));
    expect((await got).split('exit - leave the control port').length - 1).toBe(300);
    ctl.removeAllListeners('data');
    expect(await ask(ctl, 'showshortport')).toMatch(/^Port {3}Type/);
  });

  it('an overlong line (2000 bytes) is refused with one line, the session goes on', async () => {
    const { port } = await serveWithControl();
    const ctl = await openControl(port);
    const reply = await ask(ctl, 'x'.repeat(2000));
    expect(reply.trim()).toBe('Line too long (2000 bytes, at most 1024)');
    expect(await ask(ctl, 'help')).toContain('showport');
  });

  it('a client sending 8 MiB of commands without reading is paused: bridge RSS bounded, then it is answered', async () => {
    const { port, pid } = await serveWithControl();
    const rss = (): number => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
    const ctl = await connectTcp(port);
    ctl.pause();
    const start = rss();
    let peak = start;
    const chunk = Buffer.from('help\n'.repeat(13107)); // 64 KiB, each line answered by ~700 bytes
    let sent = 0;
    let stalled = false;
    while (sent < 8 * 1024 * 1024) {
      peak = Math.max(peak, rss());
      if (ctl.write(chunk)) {
        sent += chunk.length;
        continue;
      }
      sent += chunk.length;
      stalled = !(await new Promise<boolean>((r) => {
        const t = setTimeout(() => r(false), 2000);
        ctl.once('drain', () => (clearTimeout(t), r(true)));
      }));
      if (stalled) break;
    }
    peak = Math.max(peak, rss());
    console.log(`control flood: ${(sent / 1e6).toFixed(1)} MB sent before the bridge stopped reading; RSS ${start.toFixed(1)} → peak ${peak.toFixed(1)} MB`);
    expect(stalled).toBe(true);
    expect(peak - start).toBeLessThan(64);
    // Reading again lets the answers come: the session was paused, not dropped.
    let answers = 0;
    ctl.on('data', (c: Buffer) => (answers += c.toString('latin1').split('-> ').length - 1));
    ctl.resume();
    await waitUntil(() => answers > 1000, 'answers after reading again', 30_000, 50);
    ctl.destroy();
  });
});
