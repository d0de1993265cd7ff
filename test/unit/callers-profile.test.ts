import { describe, expect, it } from 'vitest';
import { rangeCidrs } from '../../src/callers/pool.js';
import { parseProfile } from '../../src/profile/load.js';

const base = `name: dialin
role: server
listen: 0.0.0.0:2323
localIp: 192.168.7.1
remoteIp: 192.168.7.10-192.168.7.13
auth: { require: none }
`;

function problems(text: string): string[] {
  try {
    parseProfile(text, 'p.yaml');
    return [];
  } catch (err) {
    return (err as Error).message.split('\n').filter((l) => l.startsWith('p.yaml:'));
  }
}

describe('listen: profiles', () => {
  it('take an address range and caller settings with defaults', () => {
    const p = parseProfile(`${base}callers: { max: 4, telnet: true }\n`, 'p.yaml');
    expect(p.listen).toBe('0.0.0.0:2323');
    expect(p.callers).toMatchObject({ max: 4, protocol: 'modem', telnet: true, idleTimeout: 60 });
  });

  it.each([
    [`${base}callers: { max: 5 }\n`, /callers\.max: 5 callers need 5 addresses, remoteIp has 4/],
    [`${base}device: /dev/ttyS0\n`, /listen: give one line: device, bridge or listen/],
    [base.replace('role: server', 'role: client').replace('auth: { require: none }\n', ''), /listen: callers dial a server/],
    [base.replace('192.168.7.10-192.168.7.13', '192.168.7.13-192.168.7.10'), /remoteIp: .*comes before/],
    [base.replace('listen: 0.0.0.0:2323\n', 'device: /dev/ttyS0\n'), /remoteIp: an address range is for a listen: server/],
    [`${base}callers: { protocol: hayes }\n`, /callers\.protocol: /],
    [base.replace('0.0.0.0:2323', '0.0.0.0:99999'), /listen: port out of range/],
    [base.replace('0.0.0.0:2323', '"-o x:1"'), /listen: not \[HOST:\]PORT/],
    [`${base}callers: { tls: { cert: /etc/a.crt, key: "/etc/a key" } }\n`, /callers\.tls\.key: not a plain absolute path/],
  ])('refuse %#, naming the field', (text, message) => {
    expect(problems(text).join('\n')).toMatch(message);
  });
});

describe('rangeCidrs', () => {
  it('covers a range exactly with the fewest blocks', () => {
    expect(rangeCidrs('192.168.7.10-192.168.7.40')).toEqual(['192.168.7.10/31', '192.168.7.12/30', '192.168.7.16/28', '192.168.7.32/29', '192.168.7.40/32']);
    expect(rangeCidrs('10.0.0.0-10.0.0.255')).toEqual(['10.0.0.0/24']);
    expect(rangeCidrs('10.0.0.7-10.0.0.7')).toEqual(['10.0.0.7/32']);
  });
});
