import { describe, expect, it } from 'vitest';
import { goodputCeiling, lineRate, pingWireSeconds } from '../../bench/lib/link-ceiling.js';

/** The goodput ceilings of a 115200 8N1 PPP link (issue 17), recomputed from the framing. */
describe('link ceiling arithmetic', () => {
  it('115200 8N1 is 11,520 B/s; 8E2 at 9600 is 800 B/s', () => {
    expect(lineRate(115200)).toBe(11520);
    expect(lineRate(9600, 12)).toBe(800);
  });

  it('random data: 95.6 % with full headers, 98.75 % all VJ-compressed, ~97.6 % at two thirds VJ', () => {
    expect(goodputCeiling({ vjShare: 0 })).toBeCloseTo(0.9556, 3);
    expect(goodputCeiling({ vjShare: 1 })).toBeCloseTo(0.9875, 3);
    expect(goodputCeiling({ vjShare: 2 / 3 })).toBeCloseTo(0.9766, 3);
    expect(goodputCeiling({ vjShare: 2 / 3 }) * lineRate(115200)).toBeGreaterThan(11_240);
  });

  it('without timestamps a full-header segment carries 12 bytes more: 96.3 %', () => {
    // 1460 / (1500 + 4 + 1460 × 2/256)
    expect(goodputCeiling({ vjShare: 0, timestamps: false })).toBeCloseTo(0.9634, 3);
    expect(goodputCeiling({ vjShare: 1, timestamps: false })).toBeCloseTo(0.9876, 3);
  });

  it('text needs no escapes, so its uncompressed ceiling is a little higher', () => {
    expect(goodputCeiling({ escapeShare: 0, vjShare: 2 / 3 })).toBeGreaterThan(goodputCeiling({ vjShare: 2 / 3 }));
  });

  it('a 56-byte ping is 89 bytes each way: 15.45 ms round trip at 115200', () => {
    expect(pingWireSeconds(115200) * 1000).toBeCloseTo(15.45, 2);
  });
});
