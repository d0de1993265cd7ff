import { prepareLab, runScenario, type ScenarioResult } from './run.js';
import { timingTable } from './report.js';
import { allScenarios } from './scenarios.js';

/** `npm run lab`: every scenario in turn (each uses both cores), then a timing table. */
const ac = new AbortController();
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => ac.abort());
const only = process.argv.slice(2);
let t = Date.now();
const images = await prepareLab((l) => process.stdout.write(`lab: ${l}\n`));
const prepSeconds = (Date.now() - t) / 1000;
const results: ScenarioResult[] = [];
for (const s of allScenarios()) {
  if (only.length && !only.includes(s.id)) continue;
  process.stdout.write(`lab: running ${s.id} (${s.title})\n`);
  t = Date.now();
  const r = await runScenario(s, images, { signal: ac.signal });
  results.push(r);
  process.stdout.write(`lab: ${s.id} ${r.ok ? 'PASS' : 'FAIL'} in ${r.seconds.toFixed(1)} s${r.problem ? `: ${r.problem}` : ''}\n`);
  // LAB_CONSOLES=1: the consoles of a passing scenario too (its LAB:T marks say where the time went)
  if (!r.ok || process.env.LAB_CONSOLES) {
    process.stdout.write(`--- console A\n${r.consoleA}\n--- console B\n${r.consoleB}\n${r.consoleC !== undefined ? `--- console C\n${r.consoleC}\n` : ''}`);
  }
  if (ac.signal.aborted) break;
}
process.stdout.write(`\n${timingTable(prepSeconds, results)}\n`);
process.exitCode = results.every((r) => r.ok) && results.length > 0 ? 0 : 1;
