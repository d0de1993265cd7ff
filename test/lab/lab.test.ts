import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareLab, runScenario, type LabImages, type ScenarioResult } from '../../lab/run.js';
import { timingTable } from '../../lab/report.js';
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
  const results: ScenarioResult[] = [];
  let prepSeconds = 0;

  beforeAll(async () => {
    const t0 = Date.now();
    try {
      images = await prepareLab();
      prepSeconds = (Date.now() - t0) / 1000;
    } catch (err) {
      prepError = (err as Error).message;
    }
  }, 300_000);

  afterAll(() => {
    ac.abort();
    console.log(`qemu lab timing\n${timingTable(prepSeconds, results)}`);
  });

  for (const s of allScenarios()) {
    it(`scenario ${s.id}: ${s.title}`, async () => {
      if (!images) throw new Error(`lab could not start: ${prepError ?? 'unknown reason'}`);
      const r = await runScenario(s, images, { signal: ac.signal });
      results.push(r);
      const detail = r.ok ? '' : `${r.problem}\n--- console A\n${r.consoleA}\n--- console B\n${r.consoleB}${r.consoleC !== undefined ? `\n--- console C\n${r.consoleC}` : ''}`;
      expect(r.ok, detail).toBe(true);
    }, Math.max(240_000, (s.guestTimeoutMs ?? 0) + 90_000));
  }
});
