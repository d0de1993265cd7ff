import { writeSync } from 'node:fs';
import type tty from 'node:tty';
import { fitWidth } from './screen.js';

/** The alternate screen with the cursor hidden (xterm's 1049 also saves and restores the cursor). */
export const ENTER_SCREEN = '\x1b[?1049h\x1b[?25l';
/** Cursor shown again, back to the normal screen: written on every way out. */
export const LEAVE_SCREEN = '\x1b[?25h\x1b[?1049l';

export type KeyAction = 'quit' | 'refresh';

/**
 * A full-screen session on a terminal: alternate screen, hidden cursor, stdin in raw mode for `q`.
 * `restore()` is idempotent and synchronous, and also hooked to the process's 'exit' and
 * 'uncaughtExceptionMonitor' events, so an exception that escapes everything still leaves the user's
 * terminal as it was, with Node's message on it (only SIGKILL cannot).
 */
export class FullScreen {
  private active = false;
  private readonly onData = (chunk: Buffer) => {
    for (const byte of chunk) {
      // raw mode: Ctrl-C arrives as byte 3, not as SIGINT
      if (byte === 0x03 || byte === 0x71 /* q */ || byte === 0x51 /* Q */) return this.onKey('quit');
    }
    this.onKey('refresh');
  };

  constructor(
    private readonly out: tty.WriteStream,
    private readonly input: tty.ReadStream | undefined,
    private readonly onKey: (action: KeyAction) => void,
  ) {}

  enter(): void {
    if (this.active) return;
    this.active = true;
    process.on('exit', this.restore);
    // before Node prints an uncaught exception (and exits): the message lands on the normal screen
    process.on('uncaughtExceptionMonitor', this.restore);
    writeSync((this.out as unknown as { fd: number }).fd, ENTER_SCREEN);
    if (this.input) {
      this.input.setRawMode(true);
      this.input.on('data', this.onData);
      this.input.resume();
    }
  }

  /** Redraws in place: home, each line cut to the width and cleared to its end, the rest cleared.
   *  No full clear first, so the screen does not flicker. */
  draw(lines: readonly string[]): void {
    if (!this.active) return;
    const width = this.out.columns || 80;
    const height = this.out.rows || 24;
    const text = lines
      .slice(0, height)
      .map((l) => `${fitWidth(l, width)}\x1b[K`)
      .join('\n'); // the terminal's own ONLCR (kept in Node's raw mode) adds the \r
    this.out.write(`\x1b[H${text}\x1b[J`);
  }

  readonly restore = (): void => {
    if (!this.active) return;
    this.active = false;
    process.off('exit', this.restore);
    process.off('uncaughtExceptionMonitor', this.restore);
    if (this.input) {
      this.input.off('data', this.onData);
      try {
        this.input.setRawMode(false);
      } catch {
        // the terminal is already gone (hung up): nothing to restore on it
      }
      this.input.pause();
    }
    try {
      writeSync((this.out as unknown as { fd: number }).fd, LEAVE_SCREEN);
    } catch {
      // as above
    }
  };
}
