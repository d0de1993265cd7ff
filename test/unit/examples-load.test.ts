import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProfile } from '../../src/profile/load.js';
import { renderProfile } from '../../src/render/render.js';

/** Every profile under examples/ (the ones the docs show) loads and renders. */
const dir = join(import.meta.dirname, '../../examples');
const examples = readdirSync(dir).filter((f) => f.endsWith('.yaml'));

describe('examples/*.yaml', () => {
  it('there are examples to check', () => {
    expect(examples.length).toBeGreaterThan(0);
  });
  for (const file of examples) {
    it(`${file} is a valid profile and renders a peers file`, async () => {
      const { profile } = await loadProfile(join(dir, file));
      const files = renderProfile(profile, { profilePath: `/etc/laplink/${profile.name}.yaml`, laplinkArgv: ['/usr/bin/node', '/usr/lib/ppp-laplink/bin/laplink.js'] });
      const peers = files.find((f) => f.path === `/etc/ppp/peers/${profile.name}`);
      expect(peers?.content).toContain(`linkname ${profile.name}`);
      if (profile.peer === 'dialup') expect(peers?.content).toMatch(/^connect ".* modem answer --speed \d+(?: --ring)?"$/m);
    });
  }
});
