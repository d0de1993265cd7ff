import fc from 'fast-check';
import { expect, it } from 'vitest';
import { target } from '../../fuzz/targets/journal.js';

// The fuzz target's property with bounded runs and a fixed seed; fast-check's failure message
// carries the seed and path that replay it (`npm run fuzz -- journal --seed S` runs it at length).
it(`${target.name}: ${target.description}`, () => {
  expect(target.name).toBe('journal');
  fc.assert(target.property(), { numRuns: 500, seed: 18 });
});
