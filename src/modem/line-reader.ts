/**
 * The modem's command buffer: bytes from the dialer → whole command lines. Like a modem it hunts
 * for `AT`/`at` (or `A/`, repeat the last line) and ignores everything before it, so line noise, a
 * `+++` or a PPP frame never reaches the parser. Inside a line S5 (backspace) deletes the previous
 * character and Ctrl-X drops the line; other control bytes are skipped. The buffer holds at most
 * MAX_LINE characters (a modem's is 40-255); a longer line is read to its end and answered ERROR,
 * so memory stays bounded whatever arrives.
 */

/** Characters after `AT` a line may hold (255 with the AT, as Rockwell-class modems buffer). */
export const MAX_LINE = 253;

const CTRL_X = 0x18;
const LF = 0x0a;

export type ReaderEvent =
  /** A complete line: the text after AT (without the terminator). */
  | { type: 'line'; text: string }
  /** `A/`: run the previous line again. */
  | { type: 'repeat' }
  /** The line was longer than the buffer. */
  | { type: 'overflow' }
  /** Ctrl-X: the line was dropped. */
  | { type: 'cancel' };

export interface ReaderStep {
  /** Bytes to echo for this input byte when echo is on. */
  echo: number[];
  event?: ReaderEvent;
}

export class CommandLineReader {
  private state: 'hunt' | 'sawA' | 'line' = 'hunt';
  private upper = true;
  private buffer = '';
  private overflowed = false;

  /** Characters held for the line being read (never more than MAX_LINE). */
  get buffered(): number {
    return this.buffer.length;
  }

  /**
   * One byte in. `cr` and `bs` are the current S3 and S5, read at every byte because a line can
   * change them for the next one.
   */
  push(b: number, cr: number, bs: number): ReaderStep {
    switch (this.state) {
      case 'hunt':
        if (b === 0x41 || b === 0x61) this.sawA(b === 0x41);
        return { echo: [b] };
      case 'sawA':
        if ((b === 0x54 && this.upper) || (b === 0x74 && !this.upper)) {
          this.state = 'line';
          this.buffer = '';
          this.overflowed = false;
        } else if (b === 0x2f) {
          this.state = 'hunt';
          return { echo: [b], event: { type: 'repeat' } };
        } else if (b === 0x41 || b === 0x61) this.sawA(b === 0x41);
        else this.state = 'hunt';
        return { echo: [b] };
      case 'line':
        return this.inLine(b, cr, bs);
    }
  }

  private sawA(upper: boolean): void {
    this.state = 'sawA';
    this.upper = upper;
  }

  private inLine(b: number, cr: number, bs: number): ReaderStep {
    // LF ends a line too: bytes that reached the line while its tty was still cooked (before pppd set
    // it raw) had their CR turned into LF (ICRNL); seen in the lab. After a CR the reader is hunting,
    // so a dialer's CR LF still makes one line.
    if (b === cr || b === LF) {
      this.state = 'hunt';
      const event: ReaderEvent = this.overflowed ? { type: 'overflow' } : { type: 'line', text: this.buffer };
      this.buffer = '';
      return { echo: [b], event };
    }
    if (b === bs) {
      // The AT itself cannot be deleted; a modem erases the character on the screen with BS SP BS.
      if (this.buffer.length === 0 || this.overflowed) return { echo: [] };
      this.buffer = this.buffer.slice(0, -1);
      return { echo: [bs, 0x20, bs] };
    }
    if (b === CTRL_X) {
      this.state = 'hunt';
      this.buffer = '';
      return { echo: [], event: { type: 'cancel' } };
    }
    if (b < 0x20 || b === 0x7f) return { echo: [] };
    if (this.buffer.length >= MAX_LINE) this.overflowed = true;
    else this.buffer += String.fromCharCode(b);
    return { echo: [b] };
  }
}
