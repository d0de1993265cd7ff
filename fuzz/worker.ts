import fc from 'fast-check';
import { importTarget } from './discover.js';
import type { TargetResult } from './result.js';

/**
 * Runs one fuzz target in this process (started by fuzz/main.ts with --expose-gc) and sends its
 * TargetResult to the parent. argv: FILE RUNS SEED [MAX_SECONDS], FILE a compiled target
 * (`node dist/fuzz/worker.js dist/fuzz/targets/modem.js 1000 7` to profile one).
 */
const [file, runsArg, seedArg, maxSecondsArg] = process.argv.slice(2);
const runs = Number(runsArg);
const seed = Number(seedArg);
const maxSeconds = maxSecondsArg ? Number(maxSecondsArg) : undefined;

/** Live heap in MB after a full collection (when the runner exposed gc; otherwise as it stands). */
function liveHeapMB(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

if (!file) throw new Error('usage: worker.js FILE RUNS SEED');
// The runner is gone: a long run must not go on alone (seen between async inputs; the runner also
// kills its workers when it is stopped by a signal, for synchronous targets that never yield).
const orphaned = (): never => process.exit(3);
process.on('disconnect', orphaned);
const target = await importTarget(file);
const heapStartMB = liveHeapMB();
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const r = await fc.check(target.property(), {
  numRuns: runs,
  seed,
  endOnFailure: true,
  ...(maxSeconds !== undefined ? { interruptAfterTimeLimit: maxSeconds * 1000 } : {}),
});
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const result: TargetResult = {
  name: target.name,
  runs: r.numRuns,
  crashes: r.failed ? 1 : 0,
  seconds,
  cpuSeconds: (cpu.user + cpu.system) / 1e6,
  interrupted: r.interrupted,
  heapStartMB,
  heapEndMB: liveHeapMB(),
  seed,
};
if (r.failed) {
  result.failure = [
    target.description,
    `counterexample: ${fc.stringify(r.counterexample)}`,
    `replay: npm run fuzz -- ${target.name} --seed ${r.seed} (path ${r.counterexamplePath})`,
    String(r.errorInstance).split('\n')[0],
  ].join('\n');
}
// Run by hand (e.g. under `node --cpu-prof`), there is no parent: print the result instead.
if (process.send) process.send(result, () => (process.off('disconnect', orphaned), process.disconnect()));
else process.stdout.write(`${JSON.stringify(result)}\n`);
