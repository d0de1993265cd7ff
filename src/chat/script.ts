import { ChatScriptError } from './chat-errors.js';

/** One word of a chat script, with where it came from for error messages. */
export interface ChatToken {
  bytes: Buffer;
  /** 1-based line in the script file (chat's own count); 0 for command-line words. */
  line: number;
}

/** chat reads script files with fgets() into a buffer of this size (STR_LEN). */
export const STR_LEN = 1024;

/**
 * Split a chat script file into words exactly as chat.c's do_file(): lines are read in pieces of at
 * most STR_LEN-1 bytes (a longer line continues as the next "line"), a piece starting with `#` is a
 * comment, words are separated by spaces/tabs, a word starting with ' or " runs to the matching quote
 * (a backslash protects the next byte) and ends the word even with no blank after it. Escapes stay
 * in the words: they are interpreted later, per use.
 *
 * Unlike chat, which runs the lines before a bad one, this checks the whole file first so a broken
 * script never half-runs.
 */
export function tokenizeFile(text: Buffer, scriptName: string): ChatToken[] {
  const tokens: ChatToken[] = [];
  let pos = 0;
  let line = 0;
  while (pos < text.length) {
    let end = pos;
    while (end < text.length && end - pos < STR_LEN - 1 && text[end] !== 0x0a) end++;
    if (end < text.length && text[end] === 0x0a && end - pos < STR_LEN - 1) end++;
    let piece = text.subarray(pos, end);
    pos = end;
    line++;
    const nl = piece.indexOf(0x0a);
    if (nl >= 0) piece = piece.subarray(0, nl);
    const nul = piece.indexOf(0);
    if (nul >= 0) piece = piece.subarray(0, nul);
    if (piece[0] === 0x23 /* # */) continue;
    let sp = 0;
    while (sp < piece.length) {
      const c = piece[sp]!;
      if (c === 0x20 || c === 0x09) {
        sp++;
        continue;
      }
      let word: Buffer;
      if (c === 0x22 || c === 0x27) {
        const quote = c;
        const start = ++sp;
        while (piece[sp] !== quote) {
          if (sp >= piece.length) {
            const shown = piece.subarray(start - 1).toString('latin1');
            throw new ChatScriptError(
              `${scriptName}:${line}: unterminated quote in token ${JSON.stringify(shown)}`,
            );
          }
          if (piece[sp++] === 0x5c && sp < piece.length) sp++;
        }
        word = piece.subarray(start, sp);
      } else {
        const start = sp;
        while (sp < piece.length && piece[sp] !== 0x20 && piece[sp] !== 0x09) sp++;
        word = piece.subarray(start, sp);
      }
      if (sp < piece.length) sp++; // the terminator (space, tab or closing quote) is consumed
      tokens.push({ bytes: Buffer.from(word), line });
    }
  }
  return tokens;
}

/** Script words given on the command line, used as they are (the shell did the quoting). */
export function tokensFromArgs(args: string[]): ChatToken[] {
  return args.map((a) => ({ bytes: Buffer.from(a, 'utf8'), line: 0 }));
}
