/**
 * Rig for running chat implementations against a scripted peer over a real pseudo-terminal pair
 * (the shared socat pair of ptypair.ts), used by the differential suite, the chat CLI, DCC and
 * dialer tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ReadStream } from 'node:tty';
import { startPtyPair, type PtyPair } from './ptypair.js';

export const REAL_CHAT = '/usr/sbin/chat';
export const LAPLINK_BIN = resolve(import.meta.dirname, '../../bin/laplink.js');

export type { PtyPair };

/**
 * The shared socat pty pair, holding neither end: chat notices a line that closes or hangs up, and
 * an end the rig held would keep it open.
 */
export function ptyPair(): Promise<PtyPair> {
  return startPtyPair({ holdEnds: false, timeoutMs: 10_000 });
}

export async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  await done;
}

/** One step of the scripted peer. */
export type PeerStep =
  | { wait: string; ms?: number } // until these bytes arrive (after the previous wait's match), at most ms
  | { send: string | Buffer; chunks?: number[]; gap?: number } // bytes, optionally split with gaps between
  | { sleep: number }
  | { close: true } // close our side of the pair (socat keeps the line up)
  | { hangup: true }; // the line disappears for chat: socat and both masters go away

export interface Peer {
  received(): Buffer;
  done: Promise<void>;
  stop(): void;
}

/** Drives the B side of a pty pair through `steps`, recording every byte it receives. */
export function startPeer(path: string, steps: PeerStep[], onHangup?: () => Promise<void>): Peer {
  const fd = openSync(path, 'r+');
  const tty = new ReadStream(fd);
  const chunks: Buffer[] = [];
  let cursor = 0;
  let wake: (() => void) | undefined;
  let stopped = false;
  tty.on('data', (d: Buffer) => {
    chunks.push(d);
    wake?.();
  });
  tty.on('error', () => {});
  const all = (): Buffer => Buffer.concat(chunks);
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  const write = (b: Buffer): Promise<void> => new Promise((r) => tty.write(b, () => r()));
  const done = (async () => {
    for (const step of steps) {
      if (stopped) return;
      if ('wait' in step) {
        const want = Buffer.from(step.wait, 'latin1');
        const deadline = Date.now() + (step.ms ?? 10_000);
        for (;;) {
          const at = all().indexOf(want, cursor);
          if (at >= 0) {
            cursor = at + want.length;
            break;
          }
          const left = deadline - Date.now();
          if (left <= 0 || stopped) break;
          await new Promise<void>((r) => {
            const t = setTimeout(r, left);
            wake = () => {
              clearTimeout(t);
              r();
            };
          });
        }
      } else if ('send' in step) {
        const bytes = typeof step.send === 'string' ? Buffer.from(step.send, 'latin1') : step.send;
        if (!step.chunks) await write(bytes);
        else {
          let at = 0;
          for (const n of step.chunks) {
            await write(bytes.subarray(at, at + n));
            at += n;
            await sleep(step.gap ?? 30);
          }
          if (at < bytes.length) await write(bytes.subarray(at));
        }
      } else if ('sleep' in step) await sleep(step.sleep);
      else if ('hangup' in step) {
        stopped = true;
        tty.destroy();
        await onHangup?.();
      } else if ('close' in step) {
        tty.destroy();
        stopped = true;
      }
    }
  })();
  return {
    received: all,
    done,
    stop() {
      stopped = true;
      wake?.();
      tty.destroy();
    },
  };
}

export interface ChatRun {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  peerReceived: Buffer;
  report: string | undefined;
}

export interface RunSpec {
  impl: 'real' | 'laplink';
  /** chat options before the script (a `-r report` is added when `report` is set). */
  args: string[];
  /** Script words on the command line, or a script file's text. */
  script: string[] | { file: string };
  peer: PeerStep[];
  report?: boolean;
  /** Extra files in the working dir (for @file sends). */
  files?: Record<string, string>;
  env?: NodeJS.ProcessEnv;
  /** Give chat a tty on fd 0 but hang it up mid-script: handled through peer `close`. */
}

/** Runs one implementation against the scripted peer on a fresh pty pair. */
export async function runAgainstPeer(spec: RunSpec): Promise<ChatRun> {
  const pair = await ptyPair();
  const work = mkdtempSync(join(tmpdir(), 'chat-run-'));
  try {
    for (const [name, text] of Object.entries(spec.files ?? {})) writeFileSync(join(work, name), text);
    const args = [...spec.args];
    if (spec.report) args.push('-r', join(work, 'report.txt'));
    if (Array.isArray(spec.script)) args.push(...spec.script);
    else {
      writeFileSync(join(work, 'script.chat'), spec.script.file);
      args.push('-f', join(work, 'script.chat'));
    }
    // Open chat's side first so nothing the peer sends early can meet a pty nobody holds.
    const fdA = openSync(pair.a, 'r+');
    const peer = startPeer(pair.b, spec.peer, () => pair.hangup());
    const [cmd, argv] =
      spec.impl === 'real' ? [REAL_CHAT, args] : [process.execPath, [LAPLINK_BIN, 'chat', ...args]];
    const child = spawn(cmd, argv, { stdio: [fdA, fdA, 'pipe'], cwd: work, env: { ...process.env, ...spec.env } });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString('latin1')));
    const exitCode = await new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    // Let the last bytes cross socat (slow when the machine is busy): until nothing new arrived
    // for 500 ms, at most 4 s.
    for (let last = -1, until = Date.now() + 4000; Date.now() < until; ) {
      const n = peer.received().length;
      if (n === last) break;
      last = n;
      await new Promise((r) => setTimeout(r, 500));
    }
    // Held open until now, as pppd holds the line: the last close of a pty slave can drop unread bytes.
    closeSync(fdA);
    peer.stop();
    await peer.done.catch(() => {});
    const reportPath = join(work, 'report.txt');
    return {
      exitCode,
      stdout: '',
      stderr,
      peerReceived: peer.received(),
      report: existsSync(reportPath) ? readFileSync(reportPath, 'latin1') : undefined,
    };
  } finally {
    await pair.close();
    rmSync(work, { recursive: true, force: true });
  }
}

/** What must differ between two runs: REPORT time stamps and work-dir paths. */
export function normalise(text: string | undefined): string | undefined {
  return text
    ?.replace(/chat: {2}[A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d /g, 'chat:  <TIME> ')
    .replace(/\/tmp\/chat-run-[A-Za-z0-9]+/g, '<WORK>');
}
