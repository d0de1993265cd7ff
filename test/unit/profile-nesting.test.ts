import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// Deep nesting used to reach the yaml composer's recursion: a RangeError out of our code ("internal
// error", exit 70) or, when the overflow hit a regexp compile, a fatal V8 abort. Run through the real
// CLI so the stack is as deep as a user's.
const cli = join(import.meta.dirname, '../../bin/laplink.js');
const dir = mkdtempSync(join(tmpdir(), 'laplink-nesting-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const head = 'name: x\nrole: server\ndevice: /dev/ttyS0\nlocalIp: 10.0.0.1\nremoteIp: 10.0.0.2\nauth:\n  require: pap\n  users:\n';
const shapes: Record<string, string> = {
  'flow sequences 2,011 deep': '['.repeat(2011),
  'block sequences 20,000 deep on one line': '- '.repeat(20000),
  'flow maps under users': `${head}    - ${'{a: '.repeat(3000)}`,
  'a users list with a control byte in its indentation, nesting each item': head + Array.from({ length: 900 }, (_, i) => `${' '.repeat(4 + i)}\x01- name: u${i}`).join('\n'),
};

describe('profiles of unusual shape', () => {
  for (const [what, text] of Object.entries(shapes)) {
    it(`${what}: rejected with FILE:LINE:COL, exit 2`, () => {
      const file = join(dir, 'p.yaml');
      writeFileSync(file, text.slice(0, 65000));
      const r = spawnSync(process.execPath, [cli, 'generate', file, '--root', join(dir, 'root')], { encoding: 'utf8' });
      expect(r.stderr).not.toMatch(/internal error|RangeError|at .*\.js:\d+/);
      expect(r.status).toBe(2);
      expect(r.stderr.split('\n')[0]).toMatch(new RegExp(`^laplink: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: `));
      expect(r.stderr.split('\n').length).toBeLessThanOrEqual(22);
    });
  }
  it('a real profile still loads', () => {
    const file = join(dir, 'ok.yaml');
    writeFileSync(file, `${head}    - name: alice\n      password: s3cret\n`);
    execFileSync(process.execPath, [cli, 'generate', file, '--root', join(dir, 'root-ok')], { encoding: 'utf8' });
  });
});
