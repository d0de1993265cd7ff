import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';

// The runner finds every compiled target by listing dist/fuzz/targets (no registration) and
// prints one row per target with its counts, seed and time.
it('npm run fuzz runs every target found in dist/fuzz/targets and reports inputs, crashes, seed, time', () => {
  const main = join(import.meta.dirname, '../../dist/fuzz/main.js');
  const r = spawnSync(process.execPath, [main, '--runs', '50', '--seed', '7'], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const rows = r.stdout.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/));
  const names = rows.map((row) => row[0]);
  for (const mine of ['block-merge', 'lock-pid', 'pppd-log', 'profile-loader']) expect(names).toContain(mine);
  for (const row of rows) expect(row.slice(1, 4)).toEqual(['50', '0', '7']);
  const bad = spawnSync(process.execPath, [main, 'no-such-target'], { encoding: 'utf8' });
  expect(bad.status).toBe(2);
  expect(bad.stderr).toMatch(/^fuzz: unknown fuzz target no-such-target \(known: .*profile-loader/);
});
