import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A null-modem cable made of two pseudo-terminals joined by socat, the one rig of the tests and the
 * benchmarks (`npm run bench` builds this file with bench/):
 *   socat -d -d pty,raw,echo=0,link=DIR/a pty,raw,echo=0,link=DIR/b
 * Whatever is written to `a` comes out of `b` and back. Both slave ends are held open for the
 * pair's whole life: bytes written to a pty end nobody holds are lost, and termios would reset
 * when a bridge closes and reopens its end. No vitest here: the benchmarks load it too.
 */
export interface PtyPair {
  /** Temp directory holding the two links. */
  dir: string;
  /** Link to one end (give this to the bridge). */
  a: string;
  /** Link to the other end (the far side of the cable). */
  b: string;
  /** PID of the socat process joining them. */
  pid: number;
  /** Kill socat (by PID): both masters close, so whatever has an end open sees the line hang up;
   *  the links go, the directory stays. */
  hangup(): Promise<void>;
  /** hangup(), close the held ends, remove the temp directory. Safe to call twice. */
  close(): Promise<void>;
}

export class PtyPairError extends Error {}

export interface PtyPairOptions {
  /** Directory for the links; a fresh temp dir (removed on close) when omitted. */
  dir?: string;
  /** How long to wait for socat to create both links. */
  timeoutMs?: number;
  /** false: hold neither end, for a test that watches what an end does once its last user closes
   *  it (chat's hangup on a closed line). */
  holdEnds?: boolean;
}

export async function startPtyPair(options: PtyPairOptions = {}): Promise<PtyPair> {
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'laplink-pty-'));
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  let child: ChildProcess;
  try {
    child = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (err) {
    throw new PtyPairError(`cannot start socat (install package socat): ${String(err)}`);
  }
  const held: number[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let closed = false;
  const hangup = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  };
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    for (const fd of held.splice(0)) closeSync(fd);
    await hangup();
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForSocatReady(child, options.timeoutMs ?? 5000);
    // O_NONBLOCK: opening must never wait for carrier; O_NOCTTY: never become our controlling tty.
    const flags = constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK;
    if (options.holdEnds !== false) held.push(openSync(a, flags), openSync(b, flags));
  } catch (err) {
    await close();
    throw err;
  }
  return { dir, a, b, pid: child.pid!, hangup, close };
}

/** socat -d -d logs "starting data transfer loop" once both ptys and links exist. */
function waitForSocatReady(child: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => finish(new PtyPairError(`socat pty pair not ready after ${timeoutMs} ms: ${log.trim()}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      log += chunk.toString();
      if (log.includes('starting data transfer loop')) finish();
    };
    const onError = (err: NodeJS.ErrnoException): void =>
      finish(new PtyPairError(err.code === 'ENOENT' ? 'socat not found: install package socat' : `socat failed: ${err.message}`));
    const onExit = (code: number | null): void => finish(new PtyPairError(`socat exited (${code}) before the pty pair was ready: ${log.trim()}`));
    function finish(err?: Error): void {
      clearTimeout(timer);
      child.stderr!.off('data', onData);
      child.off('error', onError);
      child.off('exit', onExit);
      // Keep draining stderr so socat never blocks on a full pipe.
      child.stderr!.resume();
      if (err) reject(err);
      else resolve();
    }
    child.stderr!.on('data', onData);
    child.once('error', onError);
    child.once('exit', onExit);
  });
}
