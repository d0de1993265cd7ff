import fc from 'fast-check';
import { expect, it } from 'vitest';
import { target } from '../../fuzz/targets/state-file.js';

// The fuzz target's property with bounded runs and a fixed seed; fast-check's failure message
// carries the seed and path that replay it (`npm run fuzz -- state-file --seed S` runs it at length).
it(`${target.name}: ${target.description}`, () => {
  expect(target.name).toBe('state-file');
  fc.assert(target.property(), { numRuns: 300, seed: 18 });
});
