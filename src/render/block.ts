import { LaplinkError } from '../errors.js';

/**
 * Managed blocks: our lines inside a file others also edit (/etc/hosts, pap-secrets, options),
 * fenced by `# BEGIN ppp-laplink NAME` … `# END ppp-laplink NAME`. Everything outside the fence is
 * kept byte for byte; several links keep one block each.
 */

export class ManagedBlockError extends LaplinkError {}

export const beginMarker = (name: string) => `# BEGIN ppp-laplink ${name}`;
export const endMarker = (name: string) => `# END ppp-laplink ${name}`;

/** Splits text into lines that keep their own terminators, so joining them gives the text back. */
function splitKeep(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

const bare = (line: string) => line.replace(/\r?\n$/, '');

/** The file's own line ending: CRLF when most of its lines use it. */
export function lineEnding(text: string | null): '\n' | '\r\n' {
  if (!text) return '\n';
  const crlf = (text.match(/\r\n/g) ?? []).length;
  const lf = (text.match(/\n/g) ?? []).length;
  return crlf > 0 && crlf * 2 >= lf ? '\r\n' : '\n';
}

function findBlock(lines: string[], name: string, file: string): [number, number] | null {
  const begin = lines.findIndex((l) => bare(l).trimEnd() === beginMarker(name));
  const end = lines.findIndex((l, i) => i > begin && bare(l).trimEnd() === endMarker(name));
  if (begin < 0) {
    if (lines.some((l) => bare(l).trimEnd() === endMarker(name))) throw new ManagedBlockError(`${file}: "${endMarker(name)}" without its BEGIN line; fix the file by hand`);
    return null;
  }
  if (end < 0) throw new ManagedBlockError(`${file}: "${beginMarker(name)}" without its END line; fix the file by hand`);
  return [begin, end];
}

/**
 * Puts `body` (lines separated by "\n", no markers) into the block named `name`: replaced in
 * place when it exists, appended otherwise. Inside the block the file's own line ending is used.
 */
export function mergeBlock(existing: string | null, name: string, body: string, file = 'file'): string {
  const text = existing ?? '';
  const eol = lineEnding(existing);
  const lines = splitKeep(text);
  const bodyLines = body.split('\n').filter((l, i, a) => !(i === a.length - 1 && l === ''));
  const block = [beginMarker(name), ...bodyLines, endMarker(name)].map((l) => l + eol);
  const found = findBlock(lines, name, file);
  if (found) {
    const [b, e] = found;
    // Keep the END line's own terminator: at the end of a file without a final newline, none.
    const endTerm = lines[e]!.endsWith('\n') ? '' : 'strip';
    const replaced = [...block];
    if (endTerm === 'strip') replaced[replaced.length - 1] = endMarker(name);
    return [...lines.slice(0, b), ...replaced, ...lines.slice(e + 1)].join('');
  }
  // Appending after a last line without a terminator needs one, or BEGIN would join that line.
  const sep = text.length > 0 && !text.endsWith('\n') ? eol : '';
  return text + sep + block.join('');
}

/** Removes the block named `name`, keeping everything else byte for byte. */
export function removeBlock(existing: string | null, name: string, file = 'file'): string | null {
  if (existing === null) return null;
  const lines = splitKeep(existing);
  const found = findBlock(lines, name, file);
  if (!found) return existing;
  const [b, e] = found;
  return [...lines.slice(0, b), ...lines.slice(e + 1)].join('');
}

/** The body of block `name` (without markers, "\n"-joined), or null when there is none. */
export function readBlock(existing: string | null, name: string, file = 'file'): string | null {
  if (existing === null) return null;
  const lines = splitKeep(existing);
  const found = findBlock(lines, name, file);
  if (!found) return null;
  return lines.slice(found[0] + 1, found[1]).map(bare).join('\n');
}
