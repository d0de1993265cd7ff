import { describe, expect, it } from 'vitest';
import type { SerialCounters } from '../../src/line/serial-counters.js';
import { describeLine, describeQueue, LineErrorMeter, pppdHoldsTty } from '../../src/status/line-health.js';

const zero: SerialCounters = { rx: 0, tx: 0, frame: 0, parity: 0, overrun: 0, bufOverrun: 0, brk: 0, cts: 0, dsr: 0, ri: 0, dcd: 0 };

describe('line health', () => {
  it('flags a line whose framing errors grow between two looks, not one with old errors that stand still', () => {
    const meter = new LineErrorMeter();
    const old = { ...zero, rx: 5000, frame: 7 };
    expect(meter.look({ device: '/dev/ttyS0', counters: old }).troubles).toBeUndefined();
    expect(meter.look({ device: '/dev/ttyS0', counters: { ...old, rx: 9000 } }).troubles).toBeUndefined();
    const grown = meter.look({ device: '/dev/ttyS0', counters: { ...old, rx: 9100, frame: 10, parity: 1 } });
    expect(grown.troubles).toEqual([{ kind: 'framing', count: 4, cause: expect.stringContaining('differ in speed or framing') }]);
    expect(describeLine(grown)).toMatch(/^line \/dev\/ttyS0: rx 8\.9 KiB tx 0 B, errors since boot: frame 10 parity 1; GROWING: 4 framing \(/);
    meter.keepOnly(new Set());
    expect(meter.look({ device: '/dev/ttyS0', counters: { ...old, frame: 99 } }).troubles).toBeUndefined();
  });

  it('reads a tty only while pppd holds it', () => {
    expect(pppdHoldsTty({ state: 'up', pppdPid: 10, device: '/dev/ttyS0' }, false)).toBe(true);
    expect(pppdHoldsTty({ state: 'up', pppdPid: 10, device: '/dev/ttyS0' }, true)).toBe(false);
    expect(pppdHoldsTty({ state: 'backoff', pppdPid: undefined, device: '/dev/ttyS0' }, false)).toBe(false);
    expect(pppdHoldsTty({ state: 'negotiating', pppdPid: 10, device: undefined }, false)).toBe(false);
  });

  it('describes a shaped queue with its rate', () => {
    expect(describeQueue({ managedBy: 'cake', shaped: true, rateBits: 85958, backlogBytes: 3000, backlogPackets: 2, drops: 10, marks: 3 })).toBe('queue cake 86.0 kbit/s: backlog 2.9 KiB (2 packets), 10 drops, 3 marks');
  });
});
