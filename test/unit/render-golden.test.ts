import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseProfile } from '../../src/profile/load.js';
import { renderProfile } from '../../src/render/render.js';

/**
 * Every template's output for the fixture profiles, compared with reviewed files in
 * test/fixtures/golden/<link>/<path with / as _>. After a deliberate template change, run
 * `UPDATE_GOLDEN=1 npx vitest run test/unit/render-golden.test.ts` and review the diff.
 */
const root = join(import.meta.dirname, '../..');
const goldenDir = join(root, 'test/fixtures/golden');
const sources = [
  ...readdirSync(join(root, 'test/fixtures/howto')).filter((f) => f.endsWith('.yaml')).map((f) => join(root, 'test/fixtures/howto', f)),
  ...readdirSync(join(root, 'lab/profiles')).filter((f) => f.endsWith('.yaml')).map((f) => join(root, 'lab/profiles', f)),
  join(root, 'test/fixtures/golden-profiles/everything.yaml'),
  join(root, 'test/fixtures/golden-profiles/bridge.yaml'),
  join(root, 'examples/dialup-server.yaml'),
];
const update = process.env.UPDATE_GOLDEN === '1';

describe('golden files', () => {
  const templatesSeen = new Set<string>();
  for (const src of sources) {
    const p = parseProfile(readFileSync(src, 'utf8'), src);
    it(`${p.name}: every generated file matches its golden copy`, () => {
      // fixed install and profile paths so the output does not depend on this machine
      const files = renderProfile(p, { profilePath: `/etc/laplink/${p.name}.yaml`, laplinkArgv: ['/usr/bin/node', '/usr/lib/ppp-laplink/bin/laplink.js'] });
      const dir = join(goldenDir, p.name);
      if (update) mkdirSync(dir, { recursive: true });
      const expected = existsSync(dir) ? readdirSync(dir).sort() : [];
      const names = files.map((f) => `${f.path.slice(1).replace(/\//g, '_')}${f.kind === 'block' ? '.block' : ''}`);
      for (const [i, f] of files.entries()) {
        const golden = join(dir, names[i]!);
        templatesSeen.add(f.path.replace(p.name, 'NAME').replace(/options\..+$/, 'options.TTY'));
        if (update) writeFileSync(golden, f.content);
        expect(f.content, `${golden} differs`).toBe(readFileSync(golden, 'utf8'));
      }
      expect(names.sort()).toEqual(update ? names.sort() : expected);
    });
  }
  it('covers every kind of generated file', () => {
    expect([...templatesSeen].sort()).toEqual([
      '/etc/hosts',
      '/etc/laplink/NAME.inittab',
      '/etc/nftables.d/laplink-NAME.nft',
      '/etc/ppp/chap-secrets',
      '/etc/ppp/chat/NAME',
      '/etc/ppp/ip-down.d/laplink-NAME',
      '/etc/ppp/ip-up.d/laplink-NAME',
      '/etc/ppp/ipv6-up.d/laplink-NAME',
      '/etc/ppp/options',
      '/etc/ppp/options.TTY',
      '/etc/ppp/pap-secrets',
      '/etc/ppp/peers/NAME',
      '/etc/sysctl.d/60-laplink-NAME.conf',
      '/etc/systemd/system/laplink-bridge@.service',
      '/etc/systemd/system/laplink@.service',
      '/etc/systemd/system/laplink@NAME.service.d/profile.conf',
    ]);
  });
});
