import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { parseProfile } from '../../src/profile/load.js';
import { inittabId, renderProfile, ttyOptionsPath } from '../../src/render/render.js';

const profile = parseProfile('name: w\nrole: client\npeer: windows\ndevice: /dev/ttyS0\nlocalIp: 10.0.0.2\nremoteIp: 10.0.0.1\n');

describe('paths that end up in command lines', () => {
  it('refuses an install path pppd or systemd would split or expand', () => {
    for (const bad of ['/opt/my laplink/bin/laplink.js', '/opt/$(id)/laplink.js', '/opt/a"b/laplink.js', '/opt/%h/laplink.js', 'relative/laplink.js', '/opt/../x/laplink.js']) {
      const call = () => renderProfile(profile, { profilePath: '/etc/laplink/w.yaml', laplinkArgv: ['/usr/bin/node', bad] });
      expect(call).toThrow(UsageError);
      expect(call).toThrow(/install path .* contains characters that are unsafe/);
    }
  });

  it('refuses a profile path with a space (it goes into ExecStart)', () => {
    expect(() => renderProfile(profile, { profilePath: '/home/me/my link.yaml', laplinkArgv: ['/usr/bin/node', '/opt/l/bin/laplink.js'] })).toThrow(/profile path/);
  });

  it('names the tty options file as pppd does', () => {
    expect(ttyOptionsPath('/dev/ttyS1')).toBe('/etc/ppp/options.ttyS1');
    expect(ttyOptionsPath('/dev/serial/by-id/usb-x')).toBe('/etc/ppp/options.serial.by-id.usb-x');
  });

  it('derives a stable inittab id of at most 4 characters', () => {
    expect(inittabId('lab-server')).toMatch(/^[0-9a-z]{1,4}$/);
    expect(inittabId('lab-server')).toBe(inittabId('lab-server'));
    expect(inittabId('lab-server')).not.toBe(inittabId('lab-client'));
  });
});
