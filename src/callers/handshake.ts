/**
 * What a caller says before PPP: a Hayes dialer to answer as its modem, the Windows DCC
 * CLIENT/CLIENTSERVER exchange, or nothing (PPP straight away; we wait for its first byte so a
 * silent caller costs no pppd). Each resolves with the caller's line paused and every byte after
 * the handshake still unread, for pppd.
 */
import type { Duplex } from 'node:stream';
import type { ModemEngine } from '../modem/engine.js';
import { answer } from '../modem/session.js';
import { CallerDropped } from './coded-socket.js';

import type { CallerProtocol } from './schema.js';
export type { CallerProtocol };

export interface HandshakeOptions {
  /** The speed the modem reports in CONNECT. */
  connectSpeed: number;
  signal: AbortSignal;
  log: (line: string) => void;
  /** The modem of this caller's previous call on the same connection (it keeps its settings). */
  modem?: ModemEngine;
}

export interface HandshakeResult {
  /** The number a dialer dialled (modem). */
  dialled?: string;
  /** The modem that answered, online now: the call keeps it so `+++` and `ATH` work. */
  modem?: ModemEngine;
}

export async function handshake(line: Duplex, protocol: CallerProtocol, o: HandshakeOptions): Promise<HandshakeResult> {
  switch (protocol) {
    case 'modem': {
      const r = await answer(line, { connectSpeed: o.connectSpeed, signal: o.signal, log: o.log, ...(o.modem ? { engine: o.modem } : {}) });
      return { modem: r.engine, ...(r.number !== undefined ? { dialled: r.number } : {}) };
    }
    case 'dcc':
      await untilSeen(line, Buffer.from('CLIENT'), o.signal);
      await new Promise<void>((ok, fail) => line.write('CLIENTSERVER', (err) => (err ? fail(err) : ok())));
      o.log('DCC: CLIENT answered with CLIENTSERVER');
      return {};
    case 'ppp':
      await firstByte(line, o.signal);
      return {};
  }
}

/** Reads until `token` has been seen; the bytes after it go back to the front of the line. */
function untilSeen(line: Duplex, token: Buffer, signal: AbortSignal): Promise<void> {
  let seen = Buffer.alloc(0);
  return watch(line, signal, (chunk, done) => {
    seen = Buffer.concat([seen, chunk]);
    const at = seen.indexOf(token);
    if (at < 0) {
      seen = seen.subarray(Math.max(0, seen.length - token.length)); // keep only a possible partial token
      return;
    }
    const rest = seen.subarray(at + token.length);
    done();
    if (rest.length > 0) line.unshift(rest);
  });
}

function firstByte(line: Duplex, signal: AbortSignal): Promise<void> {
  return watch(line, signal, (chunk, done) => {
    done();
    line.unshift(chunk);
  });
}

/** Feeds chunks to `step` until it calls done; rejects when the line ends or the signal fires. */
function watch(line: Duplex, signal: AbortSignal, step: (chunk: Buffer, done: () => void) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let finished = false;
    const stop = (err?: Error): void => {
      if (finished) return;
      finished = true;
      line.pause();
      line.off('data', onData);
      line.off('close', onClose);
      line.off('end', onClose);
      signal.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    };
    const onData = (chunk: Buffer): void => step(chunk, () => stop());
    const onClose = (): void => stop(new CallerDropped('hung up before the handshake'));
    const onAbort = (): void => stop(new CallerDropped(String(signal.reason ?? 'aborted')));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    line.on('data', onData);
    line.once('end', onClose);
    line.once('close', onClose);
  });
}
