import fc from 'fast-check';
import { parsePortConfig } from '../../src/bridge/control.js';
import { ControlLineReader, MAX_CONTROL_LINE, parseControlLine, type ControlInput } from '../../src/bridge/control-lines.js';
import type { FuzzTarget } from '../target.js';

const words = ['help', 'showport', 'setportconfig', '9600', 'EVEN', '-XONXOFF', '8DATABITS', 'RTSCTS', 'LOCAL', ' ', '\t', '\r', '\n', '\r\n', '\x00', '\xff'];
/** Control-port input: commands, blanks, line ends of every kind, random bytes, the odd very long line. */
const stream = fc
  .array(
    fc.oneof(
      fc.constantFrom(...words).map((w) => Buffer.from(w, 'latin1')),
      fc.uint8Array({ maxLength: 16 }).map((b) => Buffer.from(b)),
      fc.integer({ min: MAX_CONTROL_LINE - 2, max: MAX_CONTROL_LINE + 2 }).map((n) => Buffer.alloc(n, 0x61)),
    ),
    { maxLength: 40 },
  )
  .map((p) => Buffer.concat(p));

function feed(chunks: Buffer[]): ControlInput[] {
  const r = new ControlLineReader();
  return chunks.flatMap((c) => r.push(c));
}

export const target: FuzzTarget = {
  name: 'control-line',
  description: 'control-port bytes cut anywhere → ControlLineReader: the same lines as uncut, none over 1 KiB; parseControlLine never throws; setportconfig words accepted or refused naming the word',
  property: () =>
    fc.property(stream, fc.array(fc.nat(), { maxLength: 10 }), (bytes, cuts) => {
      const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
      const chunks: Buffer[] = [];
      let from = 0;
      for (const a of at) (chunks.push(bytes.subarray(from, a)), (from = a));
      chunks.push(bytes.subarray(from));
      const whole = feed([bytes]);
      const cut = feed(chunks);
      if (JSON.stringify(cut) !== JSON.stringify(whole)) throw new Error(`cut ${JSON.stringify(cut)} ≠ whole ${JSON.stringify(whole)}`);
      for (const input of whole) {
        if (input.kind === 'too-long') {
          if (input.length <= MAX_CONTROL_LINE) throw new Error(`${input.length} bytes called too long`);
          continue;
        }
        if (input.text.length > MAX_CONTROL_LINE) throw new Error(`line of ${input.text.length} bytes let through`);
        if (/[\r\n]/.test(input.text)) throw new Error('line end inside a line');
        const parsed = parseControlLine(input.text);
        if (!parsed) continue;
        try {
          parsePortConfig(parsed.args);
        } catch (err) {
          const m = /^Invalid port config: (.*)$/.exec((err as Error).message);
          if (!m || !parsed.args.includes(m[1]!)) throw new Error(`refusal names no word: ${(err as Error).message}`);
        }
      }
    }),
};
