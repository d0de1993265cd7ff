import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bitsPerFrame, LineSchedule, Pacer } from '../../src/line/pace.js';
import { ManualClock } from '../helpers/manual-clock.js';


const ticks = () => new Promise<void>((r) => setImmediate(r));

/** Feeds `data` into a pacer and records (time, cumulative bytes) at every burst, until all arrived. */
async function run(clock: ManualClock, pacer: Pacer, writes: Array<{ at: number; data: Buffer }>): Promise<{ out: Buffer; log: Array<[number, number]> }> {
  const parts: Buffer[] = [];
  const log: Array<[number, number]> = [];
  let total = 0;
  pacer.on('data', (b: Buffer) => {
    parts.push(b);
    total += b.length;
    log.push([clock.now(), total]);
  });
  const want = writes.reduce((n, w) => n + w.data.length, 0);
  const queue = [...writes];
  for (let guard = 0; guard < 1e6 && total < want; guard++) {
    while (queue.length && queue[0]!.at <= clock.t) pacer.write(queue.shift()!.data);
    await ticks();
    if (total >= want) break;
    const nextWrite = queue[0]?.at;
    if (!clock.pending && nextWrite !== undefined) clock.t = nextWrite;
    else if (!clock.fireNext()) {
      if (nextWrite === undefined) break;
      clock.t = nextWrite;
    }
  }
  return { out: Buffer.concat(parts), log };
}

describe('bitsPerFrame', () => {
  it('counts start, data, parity and stop bits', () => {
    expect(bitsPerFrame({ dataBits: 8, parity: 'none', stopBits: 1 })).toBe(10);
    expect(bitsPerFrame({ dataBits: 7, parity: 'even', stopBits: 1 })).toBe(10);
    expect(bitsPerFrame({ dataBits: 8, parity: 'odd', stopBits: 2 })).toBe(12);
    expect(bitsPerFrame({ dataBits: 5, parity: 'none', stopBits: 1 })).toBe(7);
  });
});

describe('LineSchedule', () => {
  it('lets one FIFO go at once, then one byte per byte time', () => {
    const s = new LineSchedule(115200, 10);
    const bt = 10_000 / 115200;
    expect(s.allowance(0)).toBe(16);
    s.took(16);
    expect(s.allowance(bt * 0.99)).toBe(0);
    expect(s.allowance(bt * 1.0)).toBe(1);
    expect(s.readyAt(16)).toBeCloseTo(16 * bt, 9);
  });

  it('gives no credit for an idle wire', () => {
    const s = new LineSchedule(9600, 10);
    s.took(16);
    s.resumeAt(1000); // a second later: the wire went idle long ago
    expect(s.allowance(1000)).toBe(16);
  });

  it('keeps the stretch going when data comes back before the FIFO emptied', () => {
    const s = new LineSchedule(9600, 10);
    s.took(16);
    s.resumeAt(5); // 16 bytes take 16.7 ms at 9600: still sending
    expect(s.allowance(5)).toBe(4); // 4 bytes due by 5 ms, FIFO full again
  });
});

describe('Pacer', () => {
  const baud = 115200;
  const bt = (10 * 1000) / baud;

  it('delivers everything byte-exact, never ahead of the line by more than a FIFO, in ideal time', async () => {
    const clock = new ManualClock();
    const pacer = new Pacer({ baud, clock });
    const data = randomBytes(5000);
    const { out, log } = await run(clock, pacer, [{ at: 0, data: data.subarray(0, 3000) }, { at: 0, data: data.subarray(3000) }]);
    expect(out.equals(data)).toBe(true);
    for (const [t, n] of log) expect(n).toBeLessThanOrEqual(Math.floor(t / bt + 1e-9) + 16);
    const last = log.at(-1)![0];
    // The last byte may leave once the byte 16 places before it is due.
    expect(last).toBeCloseTo((5000 - 16) * bt, 6);
    // FIFO-sized bursts: one wake-up per 16 bytes, not per byte.
    expect(clock.wakeups).toBeLessThanOrEqual(Math.ceil(5000 / 16) + 2);
    expect(Math.max(...log.map(([, n], i) => n - (log[i - 1]?.[1] ?? 0)))).toBe(16);
  });

  it('a late wake-up sends what is due at once, so no line time is lost', async () => {
    const clock = new ManualClock();
    clock.lateMs = 3; // every timer fires 3 ms late (~35 byte times at 115200)
    const pacer = new Pacer({ baud, clock });
    const data = randomBytes(4000);
    const { out, log } = await run(clock, pacer, [{ at: 0, data }]);
    expect(out.equals(data)).toBe(true);
    for (const [t, n] of log) expect(n).toBeLessThanOrEqual(Math.floor(t / bt + 1e-9) + 16);
    // Fixed sleeps would take 4000/16 × (1.39 + 3) ms; by the clock it is the ideal time plus one late wake-up.
    expect(log.at(-1)![0]).toBeLessThanOrEqual((4000 - 16) * bt + 3 + bt);
  });

  it('earns no credit while idle: data after a pause is paced from its arrival', async () => {
    const clock = new ManualClock();
    const pacer = new Pacer({ baud, clock });
    const { log } = await run(clock, pacer, [{ at: 0, data: Buffer.alloc(16) }, { at: 500, data: Buffer.alloc(1000) }]);
    for (const [t, n] of log.filter(([t]) => t >= 500)) expect(n - 16).toBeLessThanOrEqual(Math.floor((t - 500) / bt + 1e-9) + 16);
    expect(log.at(-1)![0]).toBeCloseTo(500 + (1000 - 16) * bt, 6);
  });

  it('uses the frame: 8E2 at 9600 is 12 bits a byte', async () => {
    const clock = new ManualClock();
    const pacer = new Pacer({ baud: 9600, bitsPerFrame: 12, clock });
    const { log } = await run(clock, pacer, [{ at: 0, data: Buffer.alloc(400) }]);
    expect(log.at(-1)![0]).toBeCloseTo(((400 - 16) * 12 * 1000) / 9600, 6);
  });

  it('stops when its reader stops, holds the writer, and restarts without a burst of credit', async () => {
    const clock = new ManualClock();
    const pacer = new Pacer({ baud, clock, highWaterMark: 64 });
    let accepted = 0;
    const big = Buffer.alloc(2000);
    for (let i = 0; i < 20 && pacer.write(big.subarray(i * 100, i * 100 + 100)); i++) accepted++;
    expect(accepted).toBeLessThan(20); // write() said stop: the writer is held
    // nobody reads: after a long time only a FIFO's worth can be waiting in the readable side
    for (let i = 0; i < 50 && clock.fireNext(); i++) await ticks();
    clock.t += 1000;
    for (let i = 0; i < 50 && clock.fireNext(); i++) await ticks();
    await ticks();
    expect(pacer.readableLength).toBeLessThanOrEqual(32);
    // reading again: the stretch restarts now, at most a FIFO beyond what is due
    const t0 = clock.t;
    let got = 0;
    const log: Array<[number, number]> = [];
    pacer.on('data', (b: Buffer) => {
      got += b.length;
      log.push([clock.t, got]);
    });
    await ticks();
    const first = got;
    for (let i = 0; i < 200 && clock.fireNext(); i++) await ticks();
    for (const [t, n] of log) expect(n - first).toBeLessThanOrEqual(Math.floor((t - t0) / bt + 1e-9) + 16);
    expect(got).toBeGreaterThan(first);
  });

  it('an aborted signal ends it with no timer left', async () => {
    const clock = new ManualClock();
    const ac = new AbortController();
    const pacer = new Pacer({ baud, clock, signal: ac.signal });
    pacer.on('data', () => undefined);
    pacer.write(Buffer.alloc(1000));
    await ticks();
    expect(clock.pending).toBe(1);
    ac.abort();
    await ticks();
    expect(pacer.destroyed).toBe(true);
    expect(clock.pending).toBe(0);
  });

  it('refuses a baud rate of zero', () => {
    expect(() => new Pacer({ baud: 0 })).toThrow(/baud must be positive/);
  });
});
