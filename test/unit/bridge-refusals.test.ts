import { describe, expect, it } from 'vitest';
import { RefusalGate, REFUSALS } from '../../src/bridge/refusals.js';

describe('RefusalGate', () => {
  it('holds a refusal split over reads and reports it', () => {
    const g = new RefusalGate();
    expect(g.push(Buffer.from('Port alre')).length).toBe(0);
    expect(g.refusal).toBeUndefined();
    expect(g.push(Buffer.from('ady in use\r\n')).length).toBe(0);
    expect(g.refusal).toBe(REFUSALS.inUse.trim());
  });

  it('passes a PPP frame at once, and everything after it untouched', () => {
    const g = new RefusalGate();
    const frame = Buffer.from([0x7e, 0xff, 0x7d, 0x23, 0xc0, 0x21]);
    expect(g.push(frame)).toEqual(frame);
    expect(g.push(Buffer.from(REFUSALS.inUse))).toEqual(Buffer.from(REFUSALS.inUse));
    expect(g.refusal).toBeUndefined();
  });

  it('gives back held bytes in order once they stop looking like a refusal', () => {
    const g = new RefusalGate();
    expect(g.push(Buffer.from('Device')).length).toBe(0);
    expect(g.push(Buffer.from(' ok')).toString()).toBe('Device ok');
    expect(g.flush().length).toBe(0);
  });

  it('hands back an unfinished prefix when the connection ends', () => {
    const g = new RefusalGate();
    g.push(Buffer.from('All ports'));
    expect(g.refusal).toBeUndefined();
    expect(g.flush().toString()).toBe('All ports');
  });
});
