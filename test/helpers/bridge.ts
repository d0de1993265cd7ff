/** Shared rig for bridge tests: the CLI, TCP peers, the far end of a cable (the cable itself: ptypair.ts). */
import { execa, type ResultPromise } from 'execa';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import tty from 'node:tty';
import { afterEach } from 'vitest';
import { exchangeMarkers, receiveSha256, Sink } from './driver.js';
import { startPtyPair, type PtyPair } from './ptypair.js';

export const laplink = path.resolve('bin/laplink.js');

/** Starts a CLI process and resolves once its stdout shows `pattern`, with the match. */
export async function startCli(args: string[], pattern: RegExp): Promise<{ proc: ResultPromise; match: RegExpExecArray; stderr: () => string }> {
  const proc = execa('node', [laplink, ...args], { reject: false, buffer: false, stdout: 'pipe', stderr: 'pipe' });
  let err = '';
  proc.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = pattern.exec(out);
      if (m) resolve(m);
    });
    void proc.then((r) => reject(new Error(`laplink exited ${String(r.exitCode)} before printing ${pattern}: ${err}`)));
  });
  return { proc, match, stderr: () => err };
}

export async function stop(proc: ResultPromise | undefined): Promise<void> {
  if (!proc || proc.exitCode !== null) return;
  proc.kill('SIGTERM');
  await proc;
}

/**
 * Opens a pty slave (socat already made it raw) as one tty stream for both directions — the libuv
 * path, because fs streams would park threadpool threads in blocking reads.
 */
export function openEnd(p: string): { stream: tty.ReadStream; close(): void } {
  const fd = fs.openSync(p, fs.constants.O_RDWR | fs.constants.O_NOCTTY | fs.constants.O_NONBLOCK);
  const stream = new tty.ReadStream(fd);
  stream.on('error', () => undefined);
  return {
    stream,
    close: () => {
      stream.destroy();
      try {
        fs.closeSync(fd);
      } catch {
        /* closed */
      }
    },
  };
}

/** Collects bytes from a stream until `n` arrived (or rejects after ms). */
export function collect(stream: NodeJS.ReadableStream, n: number, ms = 20000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let got = 0;
    const t = setTimeout(() => {
      stream.off('data', on);
      reject(new Error(`timed out with ${got}/${n} bytes: ${Buffer.concat(parts).toString('latin1').slice(0, 200)}`));
    }, ms);
    function on(c: Buffer) {
      parts.push(c);
      got += c.length;
      if (got >= n) {
        clearTimeout(t);
        stream.off('data', on);
        resolve(Buffer.concat(parts));
      }
    }
    stream.on('data', on);
  });
}

export function connectTcp(port: number, host = '127.0.0.1'): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port }, () => resolve(s));
    s.once('error', reject);
  });
}

export function rm(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * The per-file rig of the bridge tests: an afterEach that undoes, newest first, everything pushed on
 * `cleanups` — including what pair(), serve() and end() set up.
 */
export function bridgeRig() {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.reverse()) await c();
    cleanups.length = 0;
  });
  return {
    cleanups,
    /** A socat pty pair (the null-modem cable), killed and removed after the test. */
    async pair(): Promise<PtyPair> {
      const p = await startPtyPair();
      cleanups.push(() => p.close());
      return p;
    },
    /** `laplink bridge serve DEVICE` on a free loopback port, without a UUCP lock. */
    async serve(device: string, ...flags: string[]) {
      const r = await startCli(['bridge', 'serve', device, '--listen', '127.0.0.1:0', '--no-lock', ...flags], /listening on 127\.0\.0\.1:(\d+)\n/);
      cleanups.push(() => stop(r.proc));
      return { ...r, port: Number(r.match[1]) };
    },
    /** A TCP server standing in for the remote bridge of `bridge connect`, closed after the test. */
    tcpServer: () => tcpServer(cleanups),
    /** The far end of a cable as one tty stream. */
    end(p: string): tty.ReadStream {
      const e = openEnd(p);
      cleanups.push(() => e.close());
      return e.stream;
    },
  };
}

/**
 * A TCP server in the test standing in for the remote bridge; `next()` yields each accepted socket.
 * It and its sockets are closed by the caller's cleanups.
 */
export async function tcpServer(cleanups: Array<() => unknown>): Promise<{ port: number; next(): Promise<net.Socket> }> {
  const sockets: net.Socket[] = [];
  const waiting: Array<(s: net.Socket) => void> = [];
  const server = net.createServer((s) => {
    const w = waiting.shift();
    if (w) w(s);
    else sockets.push(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  cleanups.push(() => sockets.forEach((s) => s.destroy()));
  return {
    port: (server.address() as net.AddressInfo).port,
    next: () => new Promise<net.Socket>((r) => (sockets.length ? r(sockets.shift()!) : waiting.push(r))),
  };
}

/** Polls `cond` every `everyMs` until it holds; throws naming `what` after `ms`. */
export async function waitUntil(cond: () => boolean | Promise<boolean>, what: string, ms: number, everyMs: number): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A control-port connection, past its first prompt. */
export async function openControl(port: number): Promise<net.Socket> {
  const s = await connectTcp(port);
  await collect(s, 3); // first prompt
  return s;
}

/**
 * Sends one control command and returns the text up to the next prompt. The prompt is looked for
 * anywhere in what arrives, not only at its end: after `monitor`, monitored bytes may follow the
 * prompt in the same TCP read.
 */
export async function ask(sock: net.Socket, cmd: string, ms = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let t = '';
    const done = () => {
      clearTimeout(timer);
      sock.off('data', on);
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`no prompt within ${ms} ms after control command ${JSON.stringify(cmd)}; got ${JSON.stringify(t.slice(0, 200))}`));
    }, ms);
    const on = (c: Buffer) => {
      t += c.toString('latin1');
      const end = t.indexOf('-> ');
      if (end >= 0) {
        done();
        resolve(t.slice(0, end));
      }
    };
    sock.on('data', on);
    sock.write(`${cmd}\r\n`);
  });
}

/** Proves both ends are linked end to end (a marker each way) before bulk data; leaves no listener behind. */
export async function linkUp(near: Duplex, far: Duplex, labels: [string, string] = ['near end', 'far end']): Promise<void> {
  const nearSink = new Sink(near, labels[0]);
  const farSink = new Sink(far, labels[1]);
  try {
    await exchangeMarkers(near, nearSink, far, farSink);
  } finally {
    nearSink.detach();
    farSink.detach();
  }
}

/** Sends `ab` from a to b and `ba` from b to a at once; resolves with the sha256 received at b and at a. */
export function bothWays(a: Duplex, b: Duplex, ab: Buffer, ba: Buffer, timeoutMs = 40_000): Promise<[string, string]> {
  const atB = receiveSha256(b, ab.length, timeoutMs);
  const atA = receiveSha256(a, ba.length, timeoutMs);
  a.write(ab);
  b.write(ba);
  return Promise.all([atB, atA]);
}
