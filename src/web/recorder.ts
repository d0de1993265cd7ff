/**
 * A port's output as asciicast v2 (what `asciinema play` replays): a header line
 * `{"version":2,"width":W,"height":H,"timestamp":T}`, then one `[seconds, "o", text]` line per chunk.
 * A file that reaches `maxBytes` is closed and the next one started (NAME-TIMESTAMP.cast), so a
 * console left recording for months fills at most `keep` files.
 */
import { mkdirSync, readdirSync, rmSync, writeSync, openSync, closeSync, fstatSync } from 'node:fs';
import { join } from 'node:path';

export interface RecorderOptions {
  dir: string;
  /** The port's name, the files' prefix (checked by the caller to be a plain name). */
  name: string;
  maxBytes: number;
  /** Files kept per port, oldest removed first. */
  keep: number;
  width?: number;
  height?: number;
}

export class CastRecorder {
  private fd: number | undefined;
  private size = 0;
  private started = 0;
  private readonly decoder = new TextDecoder('utf-8');

  constructor(private readonly o: RecorderOptions) {
    mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  }

  write(chunk: Buffer, now = Date.now()): void {
    if (this.fd === undefined) this.open(now);
    // stream: true keeps a UTF-8 sequence split between chunks whole for the next line
    const text = this.decoder.decode(chunk, { stream: true });
    if (!text) return;
    this.append(`${JSON.stringify([Number(((now - this.started) / 1000).toFixed(6)), 'o', text])}\n`);
    if (this.size >= this.o.maxBytes) this.close();
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private open(now: number): void {
    const stamp = new Date(now).toISOString().replace(/[:.]/g, '-');
    this.fd = openSync(join(this.o.dir, `${this.o.name}-${stamp}.cast`), 'a', 0o600);
    this.size = fstatSync(this.fd).size;
    this.started = now;
    this.append(`${JSON.stringify({ version: 2, width: this.o.width ?? 80, height: this.o.height ?? 24, timestamp: Math.floor(now / 1000) })}\n`);
    this.prune();
  }

  private append(line: string): void {
    const b = Buffer.from(line);
    writeSync(this.fd!, b);
    this.size += b.length;
  }

  private prune(): void {
    const mine = readdirSync(this.o.dir)
      .filter((f) => f.startsWith(`${this.o.name}-`) && f.endsWith('.cast'))
      .sort();
    for (const old of mine.slice(0, Math.max(0, mine.length - this.o.keep))) rmSync(join(this.o.dir, old), { force: true });
  }
}
