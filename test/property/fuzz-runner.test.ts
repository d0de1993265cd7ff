import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';

// The runner finds every compiled target by listing dist/fuzz/targets (no registration), runs each in a
// worker process, two at a time, and prints one row per target with its counts, rate, time, live heap
// before and after, and seed, then a summary line.
it('npm run fuzz runs every target found in dist/fuzz/targets and reports inputs, crashes, inputs/s, CPU per input, time, heap, seed', () => {
  const main = join(import.meta.dirname, '../../dist/fuzz/main.js');
  const r = spawnSync(process.execPath, [main, '--runs', '50', '--seed', '7'], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const lines = r.stdout.trim().split('\n');
  expect(lines[0]!.trim().split(/\s+/)).toEqual(['target', 'inputs', 'crashes', 'inputs/s', 'cpu', 'µs/input', 'time', 's', 'heap', 'MB', 'seed']);
  const rows = lines.slice(1, -1).map((l) => l.trim().split(/\s+/));
  const names = rows.map((row) => row[0]);
  for (const mine of ['block-merge', 'journal', 'lock-pid', 'modem', 'pppd-log', 'profile-loader', 'rfc2217-split', 'state-file', 'telnet-split']) expect(names).toContain(mine);
  for (const row of rows) {
    expect(row.slice(1, 3)).toEqual(['50', '0']);
    expect(Number(row[3])).toBeGreaterThan(0);
    expect(Number(row[4])).toBeGreaterThan(0);
    expect(row[6]).toMatch(/^\d+→\d+$/);
    expect(row[7]).toBe('7');
  }
  expect(lines.at(-1)).toMatch(new RegExp(`^${rows.length} targets, ${rows.length * 50} inputs, 0 crashes, [\\d.]+ s wall with 2 at a time$`));
  const one = spawnSync(process.execPath, [main, 'lock-pid', '--runs', '20', '--seed', '7', '--jobs', '1'], { encoding: 'utf8' });
  expect(one.status).toBe(0);
  expect(one.stdout.trim().split('\n').slice(1, -1).map((l) => l.split(/\s+/)[0])).toEqual(['lock-pid']);
  // --max-seconds stops a target early and says so under its row
  const capped = spawnSync(process.execPath, [main, 'profile-loader', '--runs', '100000000', '--seed', '7', '--max-seconds', '1'], { encoding: 'utf8' });
  expect(capped.status).toBe(0);
  expect(capped.stdout).toMatch(/\n {2}stopped by --max-seconds after \d+ of 100000000 inputs\n/);
  const bad = spawnSync(process.execPath, [main, 'no-such-target'], { encoding: 'utf8' });
  expect(bad.status).toBe(2);
  expect(bad.stderr).toMatch(/^fuzz: unknown fuzz target no-such-target \(known: .*profile-loader/);
});
