import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareLab, runScenario, type LabImages } from '../../lab/run.js';
import { allScenarios } from '../../lab/scenarios.js';

/*
 * The qemu lab: real pppd links between two Debian kernels in TCG guests. One file, run
 * sequentially (each scenario keeps both cores busy). A lab that cannot start (no qemu, kernel
 * fetch fails) fails every scenario with the reason; it is never skipped.
 */
describe.sequential('qemu lab', () => {
  let images: LabImages | undefined;
  let prepError: string | undefined;
  const ac = new AbortController();

  beforeAll(async () => {
    try {
      images = await prepareLab();
    } catch (err) {
      prepError = (err as Error).message;
    }
  }, 300_000);

  afterAll(() => ac.abort());

  for (const s of allScenarios()) {
    it(`scenario ${s.id}: ${s.title}`, async () => {
      if (!images) throw new Error(`lab could not start: ${prepError ?? 'unknown reason'}`);
      const r = await runScenario(s, images, { signal: ac.signal });
      const detail = r.ok ? '' : `${r.problem}\n--- console A\n${r.consoleA}\n--- console B\n${r.consoleB}`;
      expect(r.ok, detail).toBe(true);
    }, 180_000);
  }
});
