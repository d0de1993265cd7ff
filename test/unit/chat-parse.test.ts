import { describe, expect, it } from 'vitest';
import { clean, sendActions } from '../../src/chat/clean.js';
import { parseChatArgs } from '../../src/chat/options.js';
import { splitSubexpects } from '../../src/chat/runner.js';
import { tokenizeFile } from '../../src/chat/script.js';
import { dccScript } from '../../src/chat/dcc.js';
import { visible } from '../../src/chat/visible.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const words = (text: string): string[] => tokenizeFile(b(text), 't.chat').map((t) => t.bytes.toString('latin1'));

describe('chat script tokenizer (chat.c do_file)', () => {
  it('splits on blanks, strips quotes, skips # lines, a closing quote also ends the word', () => {
    expect(words("# comment\n'' AT\nOK 'a b'c \"x\\\"y\"\n")).toEqual(['', 'AT', 'OK', 'a b', 'c', 'x\\"y']);
  });
  it('names script, line and token on an unterminated quote', () => {
    expect(() => words("'' AT\nOK 'oops\n")).toThrow(/t\.chat:2: unterminated quote in token "'oops"/);
  });
  it('cuts lines at 1023 bytes like fgets(buf, 1024)', () => {
    const long = 'x'.repeat(1030);
    expect(words(long).map((w) => w.length)).toEqual([1023, 7]);
  });
  it('keeps every dccScript() line under the limit and one word per chain', () => {
    const text = dccScript('guest', { timeout: 600, retry: 1 });
    for (const line of text.split('\n')) expect(line.length).toBeLessThan(1023);
    expect(words(text).at(-1)).toMatch(/^CLIENTSERVER(-CLIENT\\c-CLIENTSERVER)+$/);
  });
});

describe('chat escapes (chat.c clean)', () => {
  it('sending: appends CR unless \\c ends the string, keeps action escapes', () => {
    expect(clean(b('AT'), true).bytes).toEqual(b('AT\r'));
    expect(clean(b('AT\\c'), true).bytes).toEqual(b('AT'));
    expect(clean(b('a\\c b'), true).bytes).toEqual(b('ac b\r'));
    expect(clean(b('\\d\\p\\K\\\\'), true).bytes).toEqual(b('\\d\\p\\K\\\\\r'));
    expect(clean(b('\\N'), true).bytes).toEqual(b('\\\0\r'));
  });
  it('expecting: \\N is N, octal 0 vanishes, ^X controls', () => {
    expect(clean(b('\\N\\000^A^@\\101\\s\\t'), false).bytes).toEqual(b('N\x01A \t'));
  });
  it('turns a cleaned send string into writes and delays', () => {
    expect(sendActions(clean(b('A\\dB\\N\\c'), true).bytes)).toEqual([
      { kind: 'write', bytes: b('A') },
      { kind: 'delay', ms: 1000 },
      { kind: 'write', bytes: b('B\0') },
    ]);
  });
  it('splits subexpects on unescaped dashes', () => {
    expect(splitSubexpects(b('a-b\\-c-d')).map(String)).toEqual(['a', 'b\\-c', 'd']);
    expect(splitSubexpects(b('a-')).map(String)).toEqual(['a']);
  });
  it('shows bytes like chat %v', () => {
    expect(visible(b('a\r\n\t\x7f\xc1'))).toBe('a^M^J\t^?M-A');
  });
});

describe('chat options (chat.c micro-getopt)', () => {
  it('bundles flags, takes attached or separate values, stops at the script', () => {
    const o = parseChatArgs(['-vs', '-t5', '-T', '555', '--preset', 'dcc-host']);
    expect(o).toMatchObject({ verbose: true, toStderr: true, timeout: 5, phone: '555', preset: 'dcc-host' });
    expect(parseChatArgs(['-v', '', 'AT', '-x']).script).toEqual(['', 'AT', '-x']);
  });
  it('rejects an unknown option with one line naming it', () => {
    expect(() => parseChatArgs(['-x'])).toThrow(/unknown option -x/);
  });
});
