/** A TCP socket or stdin/stdout pair as a plain Line (no serial controls: they are no-ops). */
import { Duplex } from 'node:stream';
import { defaultSettings, type Line, type LineSettings, type ModemLines } from './line.js';

export class StreamLine implements Line {
  readonly closed: Promise<'closed' | 'gone' | 'end'>;
  settings: LineSettings = { ...defaultSettings };
  private settle!: (why: 'closed' | 'gone' | 'end') => void;

  constructor(
    readonly name: string,
    readonly stream: Duplex,
  ) {
    this.closed = new Promise((resolve) => (this.settle = resolve));
    stream.on('end', () => this.settle('end'));
    stream.on('close', () => this.settle('end'));
    stream.on('error', () => this.settle('gone'));
  }

  async apply(s: Partial<LineSettings>): Promise<void> {
    this.settings = { ...this.settings, ...s };
  }
  async setModem(): Promise<void> {}
  async getModem(): Promise<ModemLines | undefined> {
    return undefined;
  }
  async sendBreak(): Promise<void> {}
  async purge(): Promise<void> {}
  async close(): Promise<void> {
    this.stream.destroy();
    this.settle('closed');
  }
}

/** stdin as the readable side and stdout as the writable side of one Duplex. */
export function stdioDuplex(input: NodeJS.ReadableStream = process.stdin, output: NodeJS.WritableStream = process.stdout): Duplex {
  return Duplex.from({ readable: input as unknown as NodeJS.ReadableStream, writable: output as unknown as NodeJS.WritableStream });
}
