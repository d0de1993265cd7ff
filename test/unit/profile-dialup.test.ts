import { describe, expect, it } from 'vitest';
import { parseProfile } from '../../src/profile/load.js';
import { renderProfile } from '../../src/render/render.js';

const base = ['name: d', 'device: /dev/ttyS0', 'localIp: 192.168.7.1', 'remoteIp: 192.168.7.2', 'auth: { require: none }'];
const profile = (...lines: string[]) => parseProfile([...base, ...lines].join('\n'), 'p.yaml');
const peers = (...lines: string[]) =>
  renderProfile(profile(...lines), { profilePath: '/etc/laplink/d.yaml', laplinkArgv: ['/usr/bin/node', '/opt/laplink/bin/laplink.js'] }).find((f) => f.path === '/etc/ppp/peers/d')!.content;

describe('peer: dialup', () => {
  it('renders laplink modem answer as the connect program at the profile speed, or modem.connectSpeed, with --ring', () => {
    expect(peers('role: server', 'peer: dialup', 'speed: 57600')).toContain('connect "/usr/bin/node /opt/laplink/bin/laplink.js modem answer --speed 57600"\n');
    expect(peers('role: server', 'peer: dialup', 'modem: { connectSpeed: 33600, ring: true }')).toContain('modem answer --speed 33600 --ring"\n');
  });

  it('is refused on a client and modem: is refused without it, naming the field', () => {
    expect(() => profile('role: client', 'peer: dialup')).toThrow(/p\.yaml:\d+:\d+: peer: a dialing peer calls the server.*\(allowed with role: server\)/);
    expect(() => profile('role: server', 'modem: { ring: true }')).toThrow(/modem: only a dialing peer talks to a modem \(allowed with peer: dialup\)/);
    expect(() => profile('role: server', 'peer: dialup', 'modem: { connectSpeed: "115200; reboot" }')).toThrow(/modem\.connectSpeed/);
    expect(() => profile('role: server', 'peer: dialup', 'modem: { dial: 555 }')).toThrow(/modem/);
  });
});
