import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import type { FuzzTarget } from './target.js';

/**
 * `npm run fuzz [-- NAME…] [--runs N] [--seed S]`: every target in fuzz/targets/ (found by listing
 * the compiled directory, so a new file needs no registration), 10^6 inputs each by default.
 * Prints per target the inputs run, crashes, seed and time; exits 1 on any crash, with the
 * counterexample and the seed and path that replay it.
 */
const here = dirname(fileURLToPath(import.meta.url));

export async function discoverTargets(dir = join(here, 'targets')): Promise<FuzzTarget[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.js')).sort();
  const out: FuzzTarget[] = [];
  for (const f of files) {
    const mod = (await import(pathToFileURL(join(dir, f)).href)) as { target?: FuzzTarget };
    if (!mod.target) throw new Error(`${join(dir, f)} exports no \`target\``);
    out.push(mod.target);
  }
  return out;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { runs: { type: 'string', default: '1000000' }, seed: { type: 'string' } },
  });
  const runs = Number(values.runs);
  const seed = values.seed !== undefined ? Number(values.seed) : Date.now() ^ (process.pid << 8);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs: ${values.runs} is not a positive whole number`);
  if (!Number.isInteger(seed)) throw new Error(`--seed: ${values.seed} is not a whole number`);
  const all = await discoverTargets();
  const unknown = positionals.filter((n) => !all.some((t) => t.name === n));
  if (unknown.length) throw new Error(`unknown fuzz target ${unknown.join(', ')} (known: ${all.map((t) => t.name).join(', ')})`);
  const chosen = positionals.length ? all.filter((t) => positionals.includes(t.name)) : all;
  let crashed = 0;
  process.stdout.write(`${'target'.padEnd(22)} ${'inputs'.padStart(9)} ${'crashes'.padStart(7)} ${'seed'.padStart(12)} ${'time s'.padStart(8)}\n`);
  for (const t of chosen) {
    const t0 = performance.now();
    const r = await fc.check(t.property(), { numRuns: runs, seed, endOnFailure: true });
    const secs = (performance.now() - t0) / 1000;
    const crashes = r.failed ? 1 : 0;
    crashed += crashes;
    process.stdout.write(`${t.name.padEnd(22)} ${String(r.numRuns).padStart(9)} ${String(crashes).padStart(7)} ${String(seed).padStart(12)} ${secs.toFixed(1).padStart(8)}\n`);
    if (r.failed) {
      process.stdout.write(`  ${t.description}\n  counterexample: ${fc.stringify(r.counterexample)}\n  replay: --seed ${r.seed} (path ${r.counterexamplePath})\n  ${String(r.errorInstance).split('\n')[0]}\n`);
    }
  }
  return crashed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`fuzz: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
