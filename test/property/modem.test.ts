import fc from 'fast-check';
import { describe, it } from 'vitest';
import { target } from '../../fuzz/targets/modem.js';

/** The modem fuzz target's property, bounded for `npm test` (fixed seed; fast-check prints a failing case). */
describe('property: modem engine under byte soup', () => {
  it(target.description, () => {
    fc.assert(target.property(), { numRuns: 200, seed: 0x6d6f64 });
  });
});
