import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

describe('laplink CLI', () => {
  it('prints its version', async () => {
    const r = await execa('node', ['bin/laplink.js', '--version']);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('rejects an unknown command with status 2 and one line', async () => {
    const r = await execa('node', ['bin/laplink.js', 'frobnicate'], { reject: false });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
