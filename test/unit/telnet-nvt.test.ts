import { describe, expect, it } from 'vitest';
import type { CodecHost } from '../../src/bridge/codec.js';
import { telnetServer } from '../../src/bridge/telnet.js';

// Found by the telnet-split fuzz target (seed 20261130): the decoder read BINARY once per chunk.
describe('telnet decoder: BINARY turned off mid-chunk', () => {
  it('CR NUL after WONT BINARY in the same read is CR, as when read byte by byte', () => {
    const host: CodecHost = { reply: () => undefined, line: () => undefined, log: () => undefined, flow: () => undefined };
    const stream = Buffer.from([255, 252, 0, 13, 0, 65]);
    const whole = telnetServer(host);
    whole.greeting();
    const bytes = telnetServer(host);
    bytes.greeting();
    expect(whole.decode(stream).toString('hex')).toBe('0d41');
    expect(Buffer.concat([...stream].map((b) => Buffer.from(bytes.decode(Buffer.of(b))))).toString('hex')).toBe('0d41');
  });
});
