import fc from 'fast-check';
import { expect, it } from 'vitest';
import { target } from '../../fuzz/targets/rfc2217-split.js';

// The fuzz target's property with bounded runs and a fixed seed; fast-check's failure message
// carries the seed and path that replay it (`npm run fuzz -- rfc2217-split --seed S` runs it at length).
it(`${target.name}: ${target.description}`, async () => {
  expect(target.name).toBe('rfc2217-split');
  await fc.assert(target.property(), { numRuns: 300, seed: 18 });
});
