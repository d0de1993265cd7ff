import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism, constants as osConstants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { discoverTargets, type FoundTarget } from './discover.js';
import { formatRow, HEADER, type TargetResult } from './result.js';

/**
 * `npm run fuzz [-- NAME…] [--runs N] [--seed S] [--jobs J] [--max-seconds T]`: every target in
 * fuzz/targets/ (found by listing the compiled directory, so a new file needs no registration), 10^6 inputs each by default.
 * Each target runs in a child process of its own (fuzz/worker.ts), J at a time (default: one per core,
 * at most 2): the targets are independent and CPU-bound, and a target that exhausts its heap or aborts
 * is then one crashed row, not the end of the run. --max-seconds stops each target after T s (the row
 * says so). Prints a row per target as it finishes (inputs, crashes, inputs/s, CPU µs per input, time,
 * heap before and after, seed) and exits 1 on any crash, with the
 * counterexample and the seed and path that replay it.
 */
const workerPath = fileURLToPath(new URL('./worker.js', import.meta.url));

/** Workers running now, so a signal that stops the runner stops them too. */
const workers = new Set<ChildProcess>();
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    for (const w of workers) w.kill('SIGTERM');
    process.exit(128 + osConstants.signals[signal]);
  });
}

function runInChild({ target: { name }, file }: FoundTarget, runs: number, seed: number, maxSeconds: number | undefined): Promise<TargetResult> {
  return new Promise((resolve) => {
    // --expose-gc: the worker collects garbage before each heap reading, so "before" and "after" compare live memory.
    const child = fork(workerPath, [file, String(runs), String(seed), ...(maxSeconds !== undefined ? [String(maxSeconds)] : [])], { execArgv: ['--expose-gc'], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    workers.add(child);
    let result: TargetResult | undefined;
    let stderr = '';
    child.on('message', (m) => void (result = m as TargetResult));
    child.stdout!.on('data', (b: Buffer) => process.stderr.write(b));
    child.stderr!.on('data', (b: Buffer) => void (stderr = (stderr + b.toString()).slice(-4000)));
    child.on('close', (code, signal) => {
      workers.delete(child);
      if (result && code === 0) return resolve(result);
      const how = signal ? `killed by ${signal}` : `exit ${code}`;
      const last = stderr.trim().split('\n').filter(Boolean).slice(-3).join(' | ');
      resolve({ name, runs: 0, crashes: 1, seconds: 0, cpuSeconds: 0, interrupted: false, heapStartMB: 0, heapEndMB: 0, seed, failure: `worker ${how}${last ? `: ${last}` : ''}` });
    });
  });
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { runs: { type: 'string', default: '1000000' }, seed: { type: 'string' }, jobs: { type: 'string' }, 'max-seconds': { type: 'string' } },
  });
  const runs = Number(values.runs);
  const seed = values.seed !== undefined ? Number(values.seed) : Date.now() ^ (process.pid << 8);
  const jobs = values.jobs !== undefined ? Number(values.jobs) : Math.min(2, availableParallelism());
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs: ${values.runs} is not a positive whole number`);
  if (!Number.isInteger(seed)) throw new Error(`--seed: ${values.seed} is not a whole number`);
  if (!Number.isInteger(jobs) || jobs < 1) throw new Error(`--jobs: ${values.jobs} is not a positive whole number`);
  const maxSeconds = values['max-seconds'] !== undefined ? Number(values['max-seconds']) : undefined;
  if (maxSeconds !== undefined && !(maxSeconds > 0)) throw new Error(`--max-seconds: ${values['max-seconds']} is not a positive number`);
  const all = await discoverTargets();
  const unknown = positionals.filter((n) => !all.some((t) => t.target.name === n));
  if (unknown.length) throw new Error(`unknown fuzz target ${unknown.join(', ')} (known: ${all.map((t) => t.target.name).join(', ')})`);
  // Named targets run in the order named (put the slowest first to finish sooner with two at a time).
  const queue = positionals.length ? [...new Set(positionals)].map((n) => all.find((t) => t.target.name === n)!) : all;
  const t0 = performance.now();
  process.stdout.write(`${HEADER}\n`);
  const results: TargetResult[] = [];
  const lane = async () => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      const r = await runInChild(next, runs, seed, maxSeconds);
      results.push(r);
      process.stdout.write(`${formatRow(r)}\n`);
      if (r.interrupted) process.stdout.write(`  stopped by --max-seconds after ${r.runs} of ${runs} inputs\n`);
      if (r.failure) process.stdout.write(`  ${r.failure.split('\n').join('\n  ')}\n`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, queue.length) }, lane));
  const crashes = results.reduce((n, r) => n + r.crashes, 0);
  const inputs = results.reduce((n, r) => n + r.runs, 0);
  process.stdout.write(`${results.length} targets, ${inputs} inputs, ${crashes} crashes, ${((performance.now() - t0) / 1000).toFixed(1)} s wall with ${jobs} at a time\n`);
  return crashes ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`fuzz: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
