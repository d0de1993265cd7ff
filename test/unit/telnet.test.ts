/**
 * Telnet and RFC 2217 codecs byte by byte. The Line here is a recording stand-in (unit level only);
 * the same requests against real devices and pyserial are in test/interop/bridge-rfc2217.test.ts.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CodecHost } from '../../src/bridge/codec.js';
import { comPortFrame, Rfc2217Server } from '../../src/bridge/rfc2217.js';
import { telnetServer } from '../../src/bridge/telnet.js';
import { defaultSettings, type Line, type LineSettings } from '../../src/line/line.js';

function rig() {
  const replies: Buffer[] = [];
  const logs: string[] = [];
  const applied: Array<Partial<LineSettings>> = [];
  const breaks: number[] = [];
  const line = {
    name: 'recording',
    stream: new PassThrough(),
    settings: { ...defaultSettings },
    apply: async (s: Partial<LineSettings>) => {
      applied.push(s);
      Object.assign(line.settings, s);
    },
    setModem: async () => undefined,
    getModem: async () => undefined,
    sendBreak: async (ms: number) => void breaks.push(ms),
    purge: async () => undefined,
    close: async () => undefined,
    closed: new Promise(() => undefined),
  } as unknown as Line;
  const host: CodecHost = { reply: (b) => replies.push(b), line: () => line, log: (m) => logs.push(m), flow: () => undefined };
  return { host, replies, logs, applied, breaks, line };
}

const tick = () => new Promise((r) => setTimeout(r, 10));

describe('telnet codec', () => {
  it('doubles 0xFF toward the client and undoubles it from the client', () => {
    const { host } = rig();
    const t = telnetServer(host);
    t.greeting();
    expect([...t.encode(Buffer.from([1, 0xff, 2, 0xff, 0xff]))]).toEqual([1, 0xff, 0xff, 2, 0xff, 0xff, 0xff, 0xff]);
    expect([...t.decode(Buffer.from([1, 0xff, 0xff, 2, 0xff]))]).toEqual([1, 0xff, 2]);
    expect([...t.decode(Buffer.from([0xff, 3]))]).toEqual([0xff, 3]); // IAC split across chunks
  });

  it('returns the same buffer when there is nothing to escape (no copy on the hot path)', () => {
    const { host } = rig();
    const t = telnetServer(host);
    t.greeting();
    const b = Buffer.from('plain data\r\n');
    expect(t.encode(b)).toBe(b);
    expect(t.decode(b)).toBe(b);
  });

  it('offers ECHO, SGA, BINARY and answers DO/WILL for unknown options with WONT/DONT', () => {
    const { host, replies } = rig();
    const t = telnetServer(host);
    expect([...t.greeting()]).toEqual([255, 251, 1, 255, 251, 3, 255, 251, 0, 255, 253, 0]);
    t.decode(Buffer.from([255, 253, 24, 255, 251, 31, 255, 251, 3]));
    expect(replies.map((b) => [...b])).toEqual([
      [255, 252, 24],
      [255, 254, 31],
      [255, 253, 3],
    ]);
  });

  it('turns IAC BREAK into a line break', async () => {
    const { host, breaks } = rig();
    const t = telnetServer(host);
    expect([...t.decode(Buffer.from([65, 255, 243, 66]))]).toEqual([65, 66]);
    await tick();
    expect(breaks).toEqual([250]);
  });

  it('logs and drops a malformed subnegotiation, then keeps decoding', () => {
    const { host, logs } = rig();
    const t = telnetServer(host);
    expect([...t.decode(Buffer.from([255, 250, 44, 1, 255, 7, 65, 66]))]).toEqual([65, 66]);
    expect(logs[0]).toMatch(/malformed subnegotiation \(IAC 7 inside SB\)/);
  });
});

describe('RFC 2217 server codec', () => {
  it('applies SET-BAUDRATE and answers with code 101 and the speed in effect', async () => {
    const { host, replies, applied } = rig();
    const r = new Rfc2217Server(host);
    const speed = Buffer.alloc(4);
    speed.writeUInt32BE(38400);
    r.decode(comPortFrame(1, speed));
    await tick();
    expect(applied).toEqual([{ speed: 38400 }]);
    expect(replies.at(-1)).toEqual(comPortFrame(101, speed));
    r.dispose();
  });

  it('rejects an option with a wrong length with a log line and no reply, and keeps serving', async () => {
    const { host, replies, logs, applied } = rig();
    const r = new Rfc2217Server(host);
    const out = r.decode(Buffer.concat([comPortFrame(1, [0, 0, 37]), Buffer.from('ok'), comPortFrame(2, [7])]));
    await tick();
    expect(out.toString()).toBe('ok');
    expect(logs).toContain('rfc2217: command 1 with 3 payload bytes (want 4) rejected');
    expect(applied).toEqual([{ dataBits: 7 }]);
    expect(replies).toEqual([comPortFrame(102, [7])]);
    r.dispose();
  });

  it('maps parity codes and answers SET-CONTROL DTR/RTS and flow requests', async () => {
    const { host, replies, applied } = rig();
    const r = new Rfc2217Server(host);
    r.decode(Buffer.concat([comPortFrame(3, [3]), comPortFrame(5, [9]), comPortFrame(5, [3]), comPortFrame(5, [0]), comPortFrame(5, [7])]));
    await tick();
    expect(applied).toEqual([{ parity: 'even' }, { flow: 'rtscts' }]);
    expect(replies).toEqual([comPortFrame(103, [3]), comPortFrame(105, [9]), comPortFrame(105, [3]), comPortFrame(105, [3]), comPortFrame(105, [9])]);
    r.dispose();
  });

  it('escapes 0xFF inside a COM-PORT frame', () => {
    expect([...comPortFrame(101, [0, 0, 0xff, 0])]).toEqual([255, 250, 44, 101, 0, 0, 255, 255, 0, 255, 240]);
  });
});
