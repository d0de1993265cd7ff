/**
 * A profile's `bridge:` line over TLS: `bridgeTls` becomes `laplink bridge stdio`'s --tls-* flags in
 * pppd's `pty` line (a shell command root runs, so every value is a checked path, host name or
 * fingerprint), and each bad value is refused at its field.
 */
import { describe, expect, it } from 'vitest';
import { parseProfile } from '../../src/profile/load.js';
import { renderProfile } from '../../src/render/render.js';

const argv = ['/usr/bin/node', '/opt/ppp-laplink/bin/laplink.js'];
const FP = `sha256:${'ab'.repeat(32)}`;
const profile = (tls: string) => `name: lap\nrole: client\nbridge: bridge.example.net:4001\nlocalIp: 192.168.7.2\nremoteIp: 192.168.7.1\n${tls}`;

function ptyLine(text: string): string {
  const files = renderProfile(parseProfile(text, 'lap.yaml'), { profilePath: '/etc/laplink/lap.yaml', laplinkArgv: argv });
  const line = files.flatMap((f) => f.content.split('\n')).find((l) => l.startsWith('pty '));
  if (!line) throw new Error('no pty line rendered');
  return line;
}

describe('profile bridgeTls', () => {
  it('puts the TLS flags on bridge stdio in the pty line', () => {
    const text = profile(`bridgeTls:\n  ca: /etc/laplink/ca.crt\n  pin: ["${FP}"]\n  serverName: bridge.example.net\n  cert: /etc/laplink/lap.crt\n  key: /etc/laplink/lap.key\n`);
    expect(ptyLine(text)).toBe(
      `pty "/usr/bin/node /opt/ppp-laplink/bin/laplink.js bridge stdio bridge.example.net:4001 --tls-ca /etc/laplink/ca.crt --tls-pin ${FP} --tls-server-name bridge.example.net --tls-cert /etc/laplink/lap.crt --tls-key /etc/laplink/lap.key"`,
    );
    expect(ptyLine(profile(''))).toBe('pty "/usr/bin/node /opt/ppp-laplink/bin/laplink.js bridge stdio bridge.example.net:4001"');
  });

  it('refuses values that could carry a shell word, and TLS without a way to check the port', () => {
    expect(() => parseProfile(profile(`bridgeTls:\n  ca: "/etc/ca.crt; rm -rf /"\n`), 'lap.yaml')).toThrow(/lap\.yaml:7:\d+: bridgeTls\.ca: not a plain absolute path/);
    expect(() => parseProfile(profile(`bridgeTls:\n  pin: ["sha256:$(reboot)"]\n`), 'lap.yaml')).toThrow(/bridgeTls\.pin\[0\]: not a fingerprint/);
    expect(() => parseProfile(profile(`bridgeTls:\n  serverName: bridge.example.net\n`), 'lap.yaml')).toThrow(/bridgeTls: nothing to check the port's certificate against/);
    expect(() => parseProfile(profile(`bridgeTls:\n  pin: ["${FP}"]\n  cert: /etc/laplink/lap.crt\n`), 'lap.yaml')).toThrow(/bridgeTls\.key: a client certificate needs its key/);
  });
});
