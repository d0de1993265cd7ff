import fc from 'fast-check';
import type { Codec, CodecHost } from '../src/bridge/codec.js';
import { Rfc2217Server } from '../src/bridge/rfc2217.js';
import { telnetServer, type TelnetCodec } from '../src/bridge/telnet.js';
import type { FuzzTarget } from './target.js';

/** Telnet/RFC 2217 pieces a client sends, valid and broken, plus raw bytes (0xFF included). */
const piece = fc.oneof(
  fc.uint8Array({ maxLength: 24 }).map((b) => Buffer.from(b)),
  fc.tuple(fc.integer({ min: 251, max: 254 }), fc.integer({ min: 0, max: 255 })).map(([v, o]) => Buffer.of(255, v, o)),
  fc.tuple(fc.integer({ min: 0, max: 12 }), fc.uint8Array({ maxLength: 6 })).map(([cmd, p]) => {
    const body = [44, cmd, ...p].flatMap((b) => (b === 255 ? [255, 255] : [b]));
    return Buffer.from([255, 250, ...body, 255, 240]);
  }),
  fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from([255, 250, ...b])), // SB left open or overlong
  fc.constantFrom(Buffer.of(255, 255), Buffer.of(13, 0), Buffer.of(13, 10), Buffer.of(255, 243), Buffer.of(255), Buffer.of(255, 250, 255, 250)),
);

/** One client stream and the places it is cut into TCP reads. */
const input = fc.tuple(fc.array(piece, { maxLength: 24 }), fc.array(fc.nat(), { maxLength: 12 })).map(([pieces, cuts]) => {
  const stream = Buffer.concat(pieces);
  const at = [...new Set(cuts.map((c) => (stream.length ? c % (stream.length + 1) : 0)))].sort((a, b) => a - b);
  return { stream, at };
});

interface Seen {
  data: Buffer;
  replies: Buffer;
  logs: string[];
  breaks: number;
}

/**
 * Feeds `chunks` to a fresh codec, waits until every request it took has been answered (RFC 2217
 * applies COM-PORT requests asynchronously, one at a time, so their replies and log lines come later),
 * then disposes of it and returns everything it did. Nothing of the codec outlives the call: 10^6
 * runs in one process must keep the heap flat.
 */
async function run(make: (host: CodecHost, seen: { breaks: number }) => TelnetCodec, chunks: Buffer[]): Promise<Seen> {
  const replies: Buffer[] = [];
  const logs: string[] = [];
  const counters = { breaks: 0 };
  let settle: (() => void) | undefined;
  const host: CodecHost = {
    reply: (b) => void replies.push(Buffer.from(b)),
    line: () => undefined,
    log: (m) => void logs.push(m),
    flow: () => undefined,
    settled: () => settle?.(),
  };
  const codec: Codec = make(host, counters);
  codec.greeting();
  const data = Buffer.concat(chunks.map((c) => Buffer.from(codec.decode(c))));
  if ((codec.backlog?.() ?? 0) > 0) await new Promise<void>((resolve) => (settle = resolve));
  codec.dispose?.();
  return { data, replies: Buffer.concat(replies), logs, breaks: counters.breaks };
}

function splitAt(stream: Buffer, at: number[]): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  for (const a of at) (out.push(stream.subarray(from, a)), (from = a));
  out.push(stream.subarray(from));
  return out;
}

/** The property shared by the telnet-split and rfc2217-split targets. */
function sameWhateverTheCut(make: (host: CodecHost, seen: { breaks: number }) => TelnetCodec) {
  return fc.asyncProperty(input, async ({ stream, at }) => {
    const whole = await run(make, [stream]);
    const cut = await run(make, splitAt(stream, at));
    const byte = splitAt(stream, Array.from({ length: stream.length }, (_, i) => i));
    const single = await run(make, byte);
    for (const [name, other] of [['cut', cut], ['byte by byte', single]] as const) {
      if (!other.data.equals(whole.data)) throw new Error(`${name}: data ${other.data.toString('hex')} ≠ ${whole.data.toString('hex')}`);
      if (!other.replies.equals(whole.replies)) throw new Error(`${name}: replies ${other.replies.toString('hex')} ≠ ${whole.replies.toString('hex')}`);
      if (other.logs.join('\n') !== whole.logs.join('\n')) throw new Error(`${name}: logs differ: ${other.logs.join('|')} ≠ ${whole.logs.join('|')}`);
      if (other.breaks !== whole.breaks) throw new Error(`${name}: ${other.breaks} breaks ≠ ${whole.breaks}`);
    }
    if (whole.data.length > stream.length) throw new Error('decoded more bytes than were sent');
  });
}

export const telnetTarget: FuzzTarget = {
  name: 'telnet-split',
  description: 'telnet server decoder fed valid and broken streams cut anywhere: the same data, replies, log lines and BREAKs as uncut; never throws',
  property: () => sameWhateverTheCut((host, seen) => telnetServer(host, { onBreak: () => void seen.breaks++ })),
};

export const rfc2217Target: FuzzTarget = {
  name: 'rfc2217-split',
  description: 'RFC 2217 server decoder (no device) fed valid and broken COM-PORT streams cut anywhere: the same data, replies (answers to COM-PORT requests included) and log lines as uncut; never throws; heap flat',
  property: () => sameWhateverTheCut((host) => new Rfc2217Server(host)),
};

