/**
 * The control port's input, as a terminal line discipline takes it: bytes up to CR, LF or CRLF make
 * one line, however they were cut into TCP reads and however many lines one read carries. Only a
 * single line is capped (nobody types 1 KiB commands); what waits to be answered is bounded by the
 * session pausing its socket, not by closing it.
 */
export const MAX_CONTROL_LINE = 1024;

/** What `setclientlabel` takes (and the web sends): printable words, never the ", " that separates
 *  clients in showport nor the brackets around a label. */
export const CLIENT_LABEL = /^[A-Za-z0-9 _.:;@()+=/'#-]{1,160}$/;

export type ControlInput = { kind: 'line'; text: string } | { kind: 'too-long'; length: number };

export class ControlLineReader {
  private partial = '';
  /** Bytes of an overlong line dropped so far (its end has not come yet). */
  private skipping = 0;
  private lastWasCr = false;

  constructor(private readonly maxLine = MAX_CONTROL_LINE) {}

  /** The complete lines in `chunk` (with what came before it), in order. */
  push(chunk: Buffer): ControlInput[] {
    const out: ControlInput[] = [];
    let from = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b !== 0x0a && b !== 0x0d) continue;
      const crlf = b === 0x0a && this.lastWasCr && i === from && this.partial === '' && this.skipping === 0;
      this.lastWasCr = b === 0x0d;
      if (crlf) {
        from = i + 1; // the LF of a CRLF whose CR already ended the line
        continue;
      }
      this.take(chunk.subarray(from, i));
      out.push(this.skipping ? { kind: 'too-long', length: this.skipping } : { kind: 'line', text: this.partial });
      this.partial = '';
      this.skipping = 0;
      from = i + 1;
    }
    if (from < chunk.length) {
      this.lastWasCr = false;
      this.take(chunk.subarray(from));
    }
    return out;
  }

  private take(bytes: Buffer): void {
    if (this.skipping) {
      this.skipping += bytes.length;
      return;
    }
    if (this.partial.length + bytes.length > this.maxLine) {
      this.skipping = this.partial.length + bytes.length;
      this.partial = '';
      return;
    }
    this.partial += bytes.toString('latin1');
  }
}

/** A line's command and its words: printable ASCII only, blanks collapsed; undefined for a blank line. */
export function parseControlLine(text: string): { command: string; args: string[] } | undefined {
  const words = text.replace(/[^\x20-\x7e]/g, '').trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return undefined;
  const [command, ...args] = words as [string, ...string[]];
  return { command, args };
}
