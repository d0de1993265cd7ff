import fc from 'fast-check';
import { ConfigError } from '../../src/errors.js';
import { parseProfile } from '../../src/profile/load.js';
import type { FuzzTarget } from '../target.js';

/** A valid profile using most fields: the seed of the structured mutations. */
const VALID = `name: fz
role: server
peer: windows
device: /dev/ttyS1
speed: 57600
localIp: 10.7.0.1
remoteIp: 10.7.0.2
hostnames: { local: gw, remote: laptop }
auth:
  require: chap
  users:
    - name: alice
      password: 'correct horse "battery" \\staple'
      ips: [10.7.0.2]
    - name: bob
      password: s3cret
handshake: { engine: laplink, timeout: 30 }
lcpEcho: { interval: 5, failures: 4 }
extraOptions: [ms-dns 10.7.0.1, proxyarp]
`;
const LINES = VALID.split('\n');

/** Pieces that change YAML structure: indicators, control bytes, quotes, anchors, deep nesting. */
const piece = fc.oneof(
  fc.constantFrom('- ', ': ', '? ', '[', ']', '{', '}', ',', '#', '&a ', '*a', '!!str ', '|', '>', '"', "'", '\t', '\x01', '\x7f', '\r', '\n', '  ', '---\n', '...\n', '%YAML 1.2\n', '\ufeff'),
  fc.string({ maxLength: 6 }),
  fc.integer({ min: 1, max: 100 }).map((n) => '['.repeat(n)),
  fc.integer({ min: 1, max: 100 }).map((n) => '- '.repeat(n)),
);

const mutation = fc.oneof(
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), text: piece }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 20 }) }),
  fc.record({ op: fc.constant('indent' as const), line: fc.nat(), text: fc.constantFrom(' ', '\t', '\x01', '\x0b', ' \x01 ') }),
  fc.record({ op: fc.constant('repeat' as const), line: fc.nat(), times: fc.integer({ min: 2, max: 70 }) }),
  fc.record({ op: fc.constant('swap' as const), a: fc.nat(), b: fc.nat() }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(text: string, m: Mutation): string {
  const lines = text.split('\n');
  switch (m.op) {
    case 'insert': {
      const at = m.at % (text.length + 1);
      return text.slice(0, at) + m.text + text.slice(at);
    }
    case 'delete': {
      const at = m.at % (text.length + 1);
      return text.slice(0, at) + text.slice(at + m.len);
    }
    case 'indent':
      lines[m.line % lines.length] = m.text + lines[m.line % lines.length];
      return lines.join('\n');
    case 'repeat': {
      const i = m.line % lines.length;
      lines.splice(i, 0, ...Array<string>(m.times - 1).fill(lines[i]!));
      return lines.join('\n');
    }
    case 'swap': {
      const a = m.a % lines.length;
      const b = m.b % lines.length;
      [lines[a], lines[b]] = [lines[b]!, lines[a]!];
      return lines.join('\n');
    }
  }
}

const input = fc.oneof(
  // arbitrary bytes, read as the loader reads a file (UTF-8, invalid sequences replaced)
  fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b).toString('utf8')),
  fc.string({ unit: 'binary', maxLength: 256 }),
  // a valid profile with a few structural mutations
  fc.array(mutation, { minLength: 1, maxLength: 4 }).map((ms) => ms.reduce(mutate, VALID)),
  // a users list made long, with a control byte or tab somewhere in its indentation
  fc.tuple(fc.integer({ min: 1, max: 70 }), fc.nat(), fc.constantFrom('\x01', '\t', '\x0b', '\x1b')).map(([n, at, ch]) => {
    const users = Array.from({ length: n }, (_, i) => `    - name: u${i}\n      password: p${i}\n`);
    const j = at % n;
    users[j] = `  ${ch}${users[j]!.slice(3)}`;
    return LINES.slice(0, 11).join('\n') + '\n' + users.join('');
  }),
);

/** Every line of a rejection names the file and a line:column. */
const POSITIONED = /^fz\.yaml:\d+:\d+: \S/;

export const target: FuzzTarget = {
  name: 'profile-loader',
  description: 'YAML bytes and mutated valid profiles → parseProfile: loads, or ConfigError whose every line is fz.yaml:LINE:COL',
  property: () =>
    fc.property(input, (text) => {
      try {
        parseProfile(text, 'fz.yaml');
      } catch (err) {
        if (!(err instanceof ConfigError)) throw new Error(`not a ConfigError: ${String(err)}`);
        for (const line of err.message.split('\n')) if (!POSITIONED.test(line)) throw new Error(`problem without FILE:LINE:COL: ${JSON.stringify(line)}`);
      }
    }),
};
