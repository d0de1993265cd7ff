import { describe, expect, it } from 'vitest';
import { parseProfile } from '../../src/profile/load.js';
import { profileObject } from '../../src/profile/schema.js';
import { starterProfile } from '../../src/profile/starter.js';
import { renderProfile } from '../../src/render/render.js';

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

  it('each role and peer has its own name, so two starters do not collide', () => {
    const names = (['linux', 'windows'] as const).flatMap((peer) => (['server', 'client'] as const).map((role) => parseProfile(starterProfile({ role, peer }), 's.yaml').name));
    names.push(parseProfile(starterProfile({ role: 'server', peer: 'dialup' }), 's.yaml').name);
    expect(names).toEqual(['laplink-server', 'laplink-client', 'windows-server', 'windows-client', 'dialup-server']);
  });

  it('the lcpEcho default it documents is what the peers file gets without the key', () => {
    const text = starterProfile({ role: 'client' });
    expect(text).toContain('#   interval: seconds between LCP echo requests (default: 10)');
    expect(text).toMatch(/^# lcpEcho: /m);
    const p = parseProfile(text, 's.yaml');
    const peers = renderProfile(p, { profilePath: '/etc/laplink/s.yaml', laplinkArgv: ['/usr/bin/node', '/x/laplink.js'] }).find((f) => f.path === `/etc/ppp/peers/${p.name}`)!;
    expect(peers.content).toMatch(/^lcp-echo-interval 10\nlcp-echo-failure 3$/m);
  });
});
