import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseProfile } from '../../src/profile/load.js';
import { renderProfile } from '../../src/render/render.js';

/**
 * Every profile under examples/ (the ones docs/windows.md shows) loads and renders. Each file's
 * comment names the peer it is for; the checks below pin the option that makes it work for that peer.
 */
const dir = join(import.meta.dirname, '../../examples');
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();

const mustHave: Record<string, RegExp[]> = {
  'win9x-dcc-guest.yaml': [/^connect ".* chat -v -s -f \/etc\/ppp\/chat\/win9x-guest"$/m, /^require-pap$/m],
  'win9x-dcc-host.yaml': [/^connect ".* chat /m, /^user guest$/m],
  'winxp-incoming-mschap.yaml': [/^refuse-pap$/m, /^refuse-chap$/m, /^require-mppe-128$/m, /^usepeerdns$/m],
  'winxp-dcc-guest-mschap.yaml': [/^require-mschap-v2$/m, /^require-mppe-128$/m],
  'gateway-windows.yaml': [/^ms-dns 192\.168\.1\.1$/m, /^require-mschap-v2$/m],
  'dialup-server.yaml': [/^connect ".* modem answer --speed \d+/m],
  // listen: servers: each caller's address is on its own pppd's command line, not in the peers file.
  'callers-emulators.yaml': [/^192\.168\.7\.1:$/m, /^ms-dns 10\.9\.9\.9$/m, /^require-pap$/m],
  'callers-wifi-modem.yaml': [/^192\.168\.8\.1:$/m, /^ms-dns 10\.9\.9\.9$/m],
  'callers-dcc.yaml': [/^192\.168\.9\.1:$/m, /^noauth$/m],
  'gateway-oldstack.yaml': [/^mtu 576$/m, /^mru 576$/m, /^proxyarp$/m, /^ms-dns 10\.9\.9\.9$/m],
};

describe('examples/', () => {
  it('has the documented examples, each with its checks', () => {
    expect(files).toEqual(Object.keys(mustHave).sort());
  });
  for (const f of files) {
    it(`${f}: loads, renders, and says what its peer needs`, () => {
      const p = parseProfile(readFileSync(join(dir, f), 'utf8'), f);
      const rendered = renderProfile(p, { profilePath: `/etc/laplink/${f}`, laplinkArgv: ['/usr/bin/node', '/usr/lib/ppp-laplink/bin/laplink.js'], hostResolvers: () => ['10.9.9.9'] });
      const peers = rendered.find((r) => r.path === `/etc/ppp/peers/${p.name}`)!.content;
      for (const re of mustHave[f] ?? []) expect(peers, `${f}: ${re}`).toMatch(re);
    });
  }
});
