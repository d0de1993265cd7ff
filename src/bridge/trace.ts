/**
 * ser2net-style trace files: tr (bytes read from the device), tw (bytes written to it), tb (both),
 * raw or as 8-byte canonical hex+ASCII lines, optionally timestamped, plus OPEN/CLOSE lines when a
 * client connects or disconnects. Files are appended to, as ser2net does.
 */
import fs from 'node:fs';

export interface TraceOptions {
  read?: string;
  write?: string;
  both?: string;
  hex?: boolean;
  timestamp?: boolean;
}

/** One 8-byte hexdump line: "xx xx … |ascii|" (padded so the ASCII column lines up). */
export function hexLines(bytes: Buffer, prefix = ''): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 8) {
    const row = bytes.subarray(i, i + 8);
    const hex = [...row].map((b) => b.toString(16).padStart(2, '0')).join(' ').padEnd(23);
    const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    out += `${prefix}${hex} |${ascii}|\n`;
  }
  return out;
}

class TraceFile {
  private out: fs.WriteStream;
  constructor(
    private readonly file: string,
    private readonly o: TraceOptions,
  ) {
    this.out = TraceFile.open(file);
  }
  private static open(file: string): fs.WriteStream {
    const out = fs.createWriteStream(file, { flags: 'a' });
    out.on('error', () => undefined); // a broken trace file must not stop the port
    return out;
  }
  /** logrotate renamed the file away: bytes queued so far finish in the old one, new ones go to FILE. */
  reopen(): void {
    const old = this.out;
    this.out = TraceFile.open(this.file);
    old.end();
  }
  data(dir: 'read' | 'write' | undefined, bytes: Buffer): void {
    if (!this.o.hex) return void this.out.write(bytes);
    const tag = dir ? `${dir === 'read' ? 'r' : 'w'} ` : '';
    const stamp = this.o.timestamp ? `${new Date().toISOString()} ` : '';
    this.out.write(hexLines(bytes, stamp + tag));
  }
  event(text: string): void {
    const stamp = this.o.timestamp ? `${new Date().toISOString()} ` : '';
    this.out.write(this.o.hex ? `${stamp}${text}\n` : `\n${stamp}${text}\n`);
  }
  close(): Promise<void> {
    return new Promise((r) => this.out.end(r));
  }
}

export class Tracer {
  private readonly r?: TraceFile;
  private readonly w?: TraceFile;
  private readonly b?: TraceFile;

  constructor(o: TraceOptions) {
    if (o.read) this.r = new TraceFile(o.read, o);
    if (o.write) this.w = new TraceFile(o.write, o);
    if (o.both) this.b = new TraceFile(o.both, o);
  }

  get active(): boolean {
    return Boolean(this.r || this.w || this.b);
  }

  data(dir: 'read' | 'write', bytes: Buffer): void {
    (dir === 'read' ? this.r : this.w)?.data(undefined, bytes);
    this.b?.data(dir, bytes);
  }

  event(text: string): void {
    for (const f of [this.r, this.w, this.b]) f?.event(text);
  }

  /** SIGHUP: reopen every trace file by name (after logrotate's rename). */
  reopen(): void {
    for (const f of [this.r, this.w, this.b]) f?.reopen();
  }

  async close(): Promise<void> {
    await Promise.all([this.r, this.w, this.b].map((f) => f?.close()));
  }
}
