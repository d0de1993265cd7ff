/**
 * The client side: a local Line (device, new pty, or stdio) joined to a remote TCP port.
 * connect mode reconnects with backoff and keeps the local line open meanwhile (so a pty link stays
 * valid for pppd); stdio mode ends when TCP closes, so pppd's `pty` sees a hangup.
 */
import net from 'node:net';
import type { TLSSocket } from 'node:tls';
import { LineError } from '../errors.js';
import type { TlsDialer } from '../tls/dial.js';
import type { NativeTlsDialer } from '../tls/native-dialer.js';
import type { TlsClientSettings } from '../tls/settings.js';
import type { Line } from '../line/line.js';
import { rawCodec, type Codec, type CodecHost } from './codec.js';
import type { EventSink } from './events.js';
import { PumpHandover } from './handover.js';
import { isTlsStream, streamFd } from '../native/pump.js';
import { optimizerNeeded } from '../runtime/optimizer.js';
import { sleep } from '../runtime/sleep.js';
import { socketReason } from '../socket-reason.js';
import { dialFailure, SERVER } from '../tls/dial-failure.js';
import { RefusalGate } from './refusals.js';

export interface ClientOptions {
  host: string;
  port: number;
  line: Line;
  /** Reconnect after TCP closes (connect mode); false ends after the first session (stdio mode). */
  reconnect: boolean;
  /** Builds the client-side codec (telnet / RFC 2217 client). */
  codec?: (host: CodecHost) => Codec;
  /** First reconnect delay in ms (doubles up to maxDelay). */
  minDelay?: number;
  maxDelay?: number;
  /** Let the native pump move a raw session's bytes when the line has an fd (default true). */
  nativePump?: boolean;
  /** TLS to the bridge: run on the addon's thread when it can (the pump may then carry the plaintext), else in Node (never the pump). */
  tls?: TlsClientSettings;
  /** Let the addon run TLS when it can (default: as nativePump); false: Node's TLS. */
  nativeTls?: boolean;
  /**
   * Recognise a bridge turning the session away (`Port already in use` and the like, then close)
   * instead of passing that text to the line: stdio's line is pppd, which would read it as data.
   */
  detectRefusal?: boolean;
  onEvent?: EventSink;
  signal?: AbortSignal;
}

/** Runs until aborted (connect) or until the TCP session ends (stdio); resolves with the reason. */
export async function runClient(o: ClientOptions): Promise<'aborted' | 'closed' | 'line-gone'> {
  const name = `${o.host}:${o.port}`;
  let lineGone = false;
  void o.line.closed.then((why) => {
    if (why !== 'closed') lineGone = true;
  });
  o.line.stream.pause();
  // Files are read once, before the first attempt: a missing key is a usage error, not a retry.
  // As a served port: --no-native-pump keeps every byte in JavaScript, TLS included.
  const dialer = o.tls ? await tlsDialer(o.tls, o.nativeTls ?? o.nativePump !== false) : undefined;
  try {
    return await sessions(o, name, dialer, () => lineGone);
  } finally {
    if (dialer && 'native' in dialer) dialer.native.close();
  }
}

type Dialer = { native: NativeTlsDialer } | { node: TlsDialer };

/** TLS on the addon's thread when the addon can (built with OpenSSL's headers, Node's OpenSSL 3), else Node's. */
async function tlsDialer(settings: TlsClientSettings, nativeWanted: boolean): Promise<Dialer> {
  if (nativeWanted) {
    const { NativeTlsDialer } = await import('../tls/native-dialer.js');
    const { NativeTlsUnavailableError } = await import('../tls/native-session.js');
    try {
      return { native: await NativeTlsDialer.create(settings) };
    } catch (err) {
      if (!(err instanceof NativeTlsUnavailableError)) throw err;
    }
  }
  return { node: await (await import('../tls/dial.js')).TlsDialer.create(settings) };
}

async function sessions(o: ClientOptions, name: string, dialer: Dialer | undefined, lineGone: () => boolean): Promise<'aborted' | 'closed' | 'line-gone'> {
  let delay = o.minDelay ?? 200;
  for (;;) {
    if (o.signal?.aborted) return 'aborted';
    if (lineGone()) return 'line-gone';
    const { why: r, reason } = await session(o, name, dialer);
    if (r === 'connected-then-closed') delay = o.minDelay ?? 200;
    if (!o.reconnect) {
      if (r === 'failed') throw new LineError(`cannot connect to ${name}: ${reason}`);
      if (r === 'refused') throw new LineError(`${name} refused the session: ${reason}`);
      return 'closed';
    }
    // A line that went away ends the session the same way an abort does; tell them apart here.
    if (r === 'aborted') return lineGone() ? 'line-gone' : 'aborted';
    if (lineGone()) return 'line-gone';
    o.onEvent?.({ type: 'retry', port: name, reason, connected: r === 'connected-then-closed', delayMs: delay });
    await sleep(delay, o.signal);
    delay = Math.min(delay * 2, o.maxDelay ?? 5000);
  }
}

type SessionEnd = 'failed' | 'refused' | 'connected-then-closed' | 'aborted';

async function session(o: ClientOptions, name: string, dialer: Dialer | undefined): Promise<{ why: SessionEnd; reason: string }> {
  if (dialer && 'native' in dialer) {
    const { TlsDialError } = await import('../tls/native-dialer.js');
    let socket: net.Socket;
    try {
      socket = (await dialer.native.connect(o.host, o.port, o.signal)).socket;
    } catch (err) {
      if (!(err instanceof TlsDialError)) throw err;
      return { why: o.signal?.aborted ? 'aborted' : 'failed', reason: err.message };
    }
    // A plain socket carrying the session's plaintext, the server already judged. Alone and raw,
    // the handover sends it straight from the SSL session to the device, as socat does.
    return carry(o, name, socket, 'now', true);
  }
  if (dialer) return carry(o, name, dialer.node.connect(o.host, o.port), 'secureConnect', true, dialer.node);
  return carry(o, name, net.connect({ host: o.host, port: o.port, noDelay: true }), 'connect', false);
}

/**
 * One session on `socket` once it is `ready` ('now': already connected and judged); `nodeTls` when
 * its bytes are TLS records that Node en- and decrypts, whose server it then judges.
 */
function carry(o: ClientOptions, name: string, socket: net.Socket, ready: 'connect' | 'secureConnect' | 'now', tls: boolean, nodeTls?: TlsDialer): Promise<{ why: SessionEnd; reason: string }> {
  return new Promise((resolve) => {
    const line = o.line;
    let connected = false;
    let finished = false;
    const host: CodecHost = {
      reply: (b) => void socket.write(b),
      line: () => line,
      log: (message) => o.onEvent?.({ type: 'protocol', port: name, remote: name, message }),
      flow: (suspend) => (suspend ? line.stream.pause() : line.stream.resume()),
    };
    const codec = o.codec ? o.codec(host) : rawCodec;
    // Telnet and RFC 2217 look at every byte in JS, and Node's TLS en- and decrypts every chunk
    // there: the pump can carry neither, and unoptimized that path made a TLS round trip about 1.4x
    // socat's. TLS on the addon's thread leaves JS a plain socket, like a raw session's.
    if (codec !== rawCodec || nodeTls) optimizerNeeded();
    let lineHeld = false; // the line is paused until the socket drains
    let socketHeld = false; // the socket is paused until the line drains
    const fromLine = (chunk: Buffer) => {
      if (!socket.write(codec === rawCodec ? chunk : codec.encode(chunk)) && !lineHeld) {
        lineHeld = true;
        line.stream.pause();
        socket.once('drain', () => {
          lineHeld = false;
          if (finished) return;
          line.stream.resume();
          pump.schedule();
        });
      }
    };
    const toLine = (data: Buffer) => {
      if (!line.stream.write(data)) {
        socketHeld = true;
        socket.pause();
      }
    };
    const onLineDrain = () => {
      socketHeld = false;
      socket.resume();
      pump.schedule();
    };
    // A raw session on a line with an fd (a device or a new pty, not stdio) is socat's job: the
    // native pump moves its bytes on a C thread (handover.ts), and gives them back when it ends.
    let pumpEnded = false;
    const pump = new PumpHandover<null>(
      {
        pumpable: () => {
          if (finished || !connected || pumpEnded) return undefined;
          if (lineHeld || socketHeld) return 'later'; // a side held back would be overtaken
          return { session: null, device: line.stream, socket };
        },
        moved: () => undefined, // connect keeps no statistics
        returned: (_session, inFlight, ended) => {
          pumpEnded ||= ended;
          if (inFlight.toDevice.length) toLine(inFlight.toDevice);
          if (inFlight.toSocket.length) fromLine(inFlight.toSocket);
          if (!lineHeld) line.stream.resume();
        },
      },
      // A Node TLS socket's fd carries ciphertext: only JavaScript may move its bytes. TLS on the
      // addon's thread gives a socketpair of plaintext, the TCP fd staying on that thread.
      o.nativePump !== false && codec === rawCodec && !isTlsStream(socket) && streamFd(line.stream) !== undefined,
    );
    const finish = (why: SessionEnd, reason: string) => {
      if (finished) return;
      pump.cancel();
      pump.stop(); // bytes in flight to the line are written on; to the socket, lost with it, as in JS
      finished = true;
      line.stream.off('data', fromLine);
      line.stream.off('drain', onLineDrain);
      line.stream.pause();
      codec.dispose?.();
      o.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      if (connected) o.onEvent?.({ type: 'disconnect', port: name, remote: name, reason });
      resolve({ why, reason });
    };
    const onAbort = () => finish('aborted', 'aborted');
    o.signal?.addEventListener('abort', onAbort, { once: true });
    void line.closed.then(() => finish('aborted', 'line closed'));
    const onReady = () => {
      const refusal = nodeTls?.refusal(socket as TLSSocket);
      if (refusal) return finish('failed', refusal);
      connected = true;
      o.onEvent?.({ type: 'connect', port: name, remote: name, outgoing: true, tls });
      const greet = codec.greeting();
      if (greet.length) socket.write(greet);
      line.stream.on('data', fromLine);
      line.stream.on('drain', onLineDrain);
      line.stream.resume();
      pump.schedule();
    };
    const gate = o.detectRefusal ? new RefusalGate() : undefined;
    socket.on('data', (chunk: Buffer) => {
      let data = codec === rawCodec ? chunk : codec.decode(chunk);
      if (gate) data = gate.push(data);
      if (data.length) toLine(data);
    });
    socket.on('error', (err) => finish(connected ? 'connected-then-closed' : 'failed', connected || !tls ? socketReason(err) : dialFailure(err, SERVER)));
    socket.on('close', () => {
      if (gate?.refusal) return finish('refused', gate.refusal.toLowerCase());
      const held = gate?.flush();
      if (held?.length && !finished) toLine(held);
      finish(connected ? 'connected-then-closed' : 'failed', 'closed by the remote end');
    });
    if (o.signal?.aborted) onAbort();
    else if (ready === 'now') onReady();
    else socket.on(ready, onReady);
  });
}

