import { describe, expect, it } from 'vitest';
import { parseProfile } from '../../src/profile/load.js';
import { profileObject } from '../../src/profile/schema.js';
import { starterProfile } from '../../src/profile/starter.js';

describe('init starter profile', () => {
  for (const role of ['server', 'client'] as const) {
    for (const peer of ['linux', 'windows'] as const) {
      it(`${role}/${peer}: is a valid profile of that role and peer`, () => {
        const text = starterProfile({ role, peer });
        const p = parseProfile(text, 'starter.yaml');
        expect(p.role).toBe(role);
        expect(p.peer).toBe(peer);
      });
    }
  }

  it('server/dialup: is a valid profile whose peer dials and whose modem section is set', () => {
    const p = parseProfile(starterProfile({ role: 'server', peer: 'dialup' }), 'starter.yaml');
    expect(p.peer).toBe('dialup');
    expect(p.modem).toEqual({ ring: false });
  });

  it('documents every field of the schema with its description', () => {
    const text = starterProfile({ role: 'server' });
    for (const [key, field] of Object.entries(profileObject.shape)) {
      if (key === 'defaultRoute' || key === 'persist' || key === 'usePeerDns') continue; // client-only fields
      expect(text, key).toContain(`# ${field.description}`);
      expect(text, key).toMatch(new RegExp(`^(# )?${key}:`, 'm'));
    }
  });
});
