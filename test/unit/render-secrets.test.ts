import { describe, expect, it } from 'vitest';
import { quoteSecretWord, secretsLine } from '../../src/render/secrets.js';

/**
 * A faithful port of pppd's getword() (pppd/options.c, used for options and secrets files):
 * comments, both quote styles, backslash escapes inside and outside quotes (\n \t \s, octal, \x,
 * any other character literally, backslash-newline continues). Our quoting must be its inverse.
 */
function getwords(text: string): string[] {
  let pos = 0;
  const EOF = null;
  const getc = (): string | null => (pos < text.length ? text[pos++]! : EOF);
  const ungetc = () => {
    pos--;
  };
  const isspace = (c: string) => /^[ \t\n\r\f\v]$/.test(c);
  const isoctal = (c: string | null) => c !== null && c >= '0' && c < '8';
  const words: string[] = [];
  for (;;) {
    let escape = false;
    let comment = false;
    let quoted: string | null = null;
    let c: string | null;
    for (;;) {
      c = getc();
      if (c === EOF) break;
      if (c === '\n') {
        if (!escape) comment = false;
        else escape = false;
        continue;
      }
      if (comment) continue;
      if (escape) break;
      if (c === '\\') {
        escape = true;
        continue;
      }
      if (c === '#') {
        comment = true;
        continue;
      }
      if (!isspace(c)) break;
    }
    let word = '';
    while (c !== EOF) {
      if (escape) {
        escape = false;
        if (c === '\n') {
          c = getc();
          continue;
        }
        let got = false;
        let value: number;
        const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', s: ' ', t: '\t' };
        if (simple[c] !== undefined) value = simple[c]!.charCodeAt(0);
        else if (isoctal(c)) {
          value = 0;
          for (let n = 0; n < 3 && isoctal(c); ++n) {
            value = (value << 3) + Number(c);
            c = getc();
          }
          got = true;
        } else if (c === 'x') {
          value = 0;
          c = getc();
          for (let n = 0; n < 2 && c !== EOF && /[0-9a-fA-F]/.test(c); ++n) {
            value = (value << 4) + parseInt(c, 16);
            c = getc();
          }
          got = true;
        } else value = c.codePointAt(0)!;
        word += String.fromCodePoint(value);
        if (!got) c = getc();
        continue;
      }
      if (c === '\\') {
        escape = true;
        c = getc();
        continue;
      }
      if (quoted) {
        if (c === quoted) {
          quoted = null;
          c = getc();
          continue;
        }
      } else if (c === '"' || c === "'") {
        quoted = c;
        c = getc();
        continue;
      } else if (isspace(c) || c === '#') {
        ungetc();
        break;
      }
      word += c;
      c = getc();
    }
    // As in getword: at end of file an empty word is no word, even "" (our lines always end in \n).
    if (c === EOF && word.length === 0) return words;
    words.push(word);
    if (c === EOF) return words;
  }
}

const hostile = [
  'gargleBlaster',
  'two words',
  'with "double" quotes',
  "with 'single' quotes",
  'back\\slash',
  'trailing backslash\\',
  '\\n is not a newline',
  '\\"',
  '# not a comment',
  'ends with #',
  '\\x41 \\101 \\s',
  'ünïcödé pässwörd',
  '*',
  '-leading-dash',
  '"',
  "'",
  '  spaces around  ',
];

describe('secrets quoting is the inverse of pppd getword()', () => {
  it('reads back the port of getword on known text', () => {
    expect(getwords('a "b c" \'d e\' f\\ g # comment\nh\\x41\\101\\s\\n')).toEqual(['a', 'b c', 'd e', 'f g', 'hAA \n']);
  });

  for (const secret of hostile) {
    it(`round-trips ${JSON.stringify(secret)}`, () => {
      const line = secretsLine({ client: 'zaphod', server: '*', secret, ips: ['192.168.7.2'] });
      expect(line.split('\n')).toHaveLength(1);
      expect(getwords(`# header\n${line}\nnext * "x"\n`)).toEqual(['zaphod', '*', secret, '192.168.7.2', 'next', '*', 'x']);
    });
  }

  it('writes an empty secret as "" (the HOWTO login form)', () => {
    expect(secretsLine({ client: '*', server: '*', secret: '', ips: ['ppp_laplink_client'] })).toBe('*\t*\t""\tppp_laplink_client');
    expect(getwords(`${quoteSecretWord('')}\n`)).toEqual(['']);
  });

  it('writes a password file as pppd @/path', () => {
    expect(secretsLine({ client: 'u', server: '*', secret: { file: '/etc/ppp/u.secret' }, ips: [] })).toBe('u\t*\t@/etc/ppp/u.secret');
  });
});
