import fc from 'fast-check';
import { beginMarker, endMarker, mergeBlock, readBlock, removeBlock } from '../../src/render/block.js';
import { secretsLine } from '../../src/render/secrets.js';
import type { FuzzTarget } from '../target.js';

const NAME = 'fz';

/** A line someone else wrote (no newline inside): hosts, secrets, options lines, junk, markers of other links. */
const foreign = fc.oneof(
  fc.constantFrom('127.0.0.1\tlocalhost', '# comment', '', '   ', 'ms-dns 10.0.0.1', '*\t*\t""\t*', `${beginMarker('other')}x`, '# BEGIN ppp-laplink', '\r'),
  fc.string({ unit: 'binary', maxLength: 30 }).map((s) => s.replace(/[\n]/g, '')),
);
const eol = fc.constantFrom('\n', '\r\n');

/** A file of foreign lines with mixed endings, maybe another link's block, maybe no final newline. */
const existing = fc
  .tuple(fc.array(fc.tuple(foreign, eol), { maxLength: 12 }), fc.boolean(), fc.nat(12), fc.boolean())
  .map(([lines, otherBlock, at, finalNewline]) => {
    const ls = lines.map(([l, e]) => l + e);
    if (otherBlock) ls.splice(at % (ls.length + 1), 0, `${beginMarker('other')}\n`, 'other\t*\t"x"\n', `${endMarker('other')}\n`);
    let text = ls.join('');
    if (!finalNewline) text = text.replace(/\r?\n$/, '');
    return text;
  });

/** Our block's body: secrets lines (quoted words), or plain option/hosts lines. */
const body = fc.oneof(
  fc.array(fc.record({ client: fc.constantFrom('alice', '*'), server: fc.constant('*'), secret: fc.string({ maxLength: 12 }).map((s) => s.replace(/[\x00-\x1f\x7f]/g, '')), ips: fc.constant([] as string[]) }), { minLength: 1, maxLength: 3 }).map((es) => es.map(secretsLine).join('\n')),
  fc.array(fc.constantFrom('10.7.0.2\tlaptop', 'lock', 'crtscts', '57600'), { minLength: 1, maxLength: 4 }).map((ls) => ls.join('\n')),
);

export const target: FuzzTarget = {
  name: 'block-merge',
  description: 'random hosts/secrets/options files (CRLF, no final newline, other links) → mergeBlock/removeBlock: foreign bytes kept, merge then remove gives the file back (plus the final newline it lacked)',
  property: () =>
    fc.property(existing, body, body, (file, first, second) => {
      const merged = mergeBlock(file === '' ? null : file, NAME, first);
      if (readBlock(merged, NAME) !== first) throw new Error('block body not read back');
      // merging again (an update) keeps the same foreign bytes
      const updated = mergeBlock(merged, NAME, second);
      if (readBlock(updated, NAME) !== second) throw new Error('updated body not read back');
      const back = removeBlock(updated, NAME);
      // A file without a final newline gets one before our block, and keeps it: the END line stays
      // terminated, so a later `echo … >> file` cannot join it. Every foreign byte is kept.
      const expected = file === '' || file.endsWith('\n') ? file : file + (/\r\n/.test(updated.slice(file.length, file.length + 2)) ? '\r\n' : '\n');
      if (back !== expected) throw new Error(`merge then remove changed the file: ${JSON.stringify(file)} → ${JSON.stringify(back)}`);
      // other links' blocks are untouched
      if (readBlock(updated, 'other') !== readBlock(file, 'other')) throw new Error("another link's block changed");
    }),
};
