import { spawn } from 'node:child_process';
import { expect, it } from 'vitest';
import { cpuSeconds } from '../helpers/proc.js';

// The bench's CPU figures used /proc/PID/stat, in 10 ms ticks: every reading was a multiple of
// 0.01 s and CPU-per-MiB ratios moved in steps. Read from schedstat, a busy child's CPU time has
// sub-millisecond digits, and it grows while the child spins.
it('cpuSeconds reads a running child at sub-tick resolution', async () => {
  const child = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 200));
    const readings: number[] = [];
    for (let i = 0; i < 5; i++) {
      readings.push(cpuSeconds([child.pid!]));
      await new Promise((r) => setTimeout(r, 37));
    }
    expect(readings[4]!).toBeGreaterThan(readings[0]!);
    // ticks would make every reading a whole number of centiseconds
    const offTick = readings.filter((s) => Math.abs(s * 100 - Math.round(s * 100)) > 1e-6);
    expect(offTick.length).toBeGreaterThanOrEqual(4);
  } finally {
    child.kill('SIGKILL');
  }
});
