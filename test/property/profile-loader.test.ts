import fc from 'fast-check';
import { expect, it } from 'vitest';
import { target } from '../../fuzz/targets/profile-loader.js';

// The fuzz target's property with bounded runs and a fixed seed; fast-check's failure message
// carries the seed and path that replay it (`npm run fuzz -- profile-loader --seed S` runs it at length).
it(`${target.name}: ${target.description}`, () => {
  expect(target.name).toBe('profile-loader');
  fc.assert(target.property(), { numRuns: 200, seed: 18 });
});
