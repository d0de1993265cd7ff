import { describe, expect, it } from 'vitest';
import { allScenarios } from '../../lab/scenarios.js';

// Runs no guest: the ids are how `npm run lab -- ID` and the README's table name the scenarios.
describe('lab scenario ids', () => {
  it('are unique, NN-name, and sort in the order the scenarios run', () => {
    const ids = allScenarios().map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^\d{2}-[a-z0-9-]+$/);
    expect([...ids].sort()).toEqual(ids);
  });
});
