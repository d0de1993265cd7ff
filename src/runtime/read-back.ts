import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { lstat, open, stat } from 'node:fs/promises';
import type { z } from 'zod';
import { LaplinkError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { errnoText } from '../socket-reason.js';

/**
 * The one way to read back a file this tool (or pppd) wrote earlier: the journal, state files, UUCP
 * lock files, pid files. Anyone who could write there may have left something else in its place, so
 * the file is checked by type before a byte is read (a FIFO would block forever, a device such as
 * /dev/zero never ends, opening a tty raises its DTR), read up to a size cap, and validated by a
 * schema. Every refusal is a ReadBackError naming the file, which callers print as one line.
 */
export class ReadBackError extends LaplinkError {
  constructor(
    readonly file: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${reason}`, EXIT.FAILED, options);
  }
}

export interface ReadBackOptions {
  /** More than this many bytes is refused (the file is never read whole). */
  maxBytes: number;
  /** Follow a symlink at the last component (default false: a symlink is refused). */
  followSymlinks?: boolean;
}

export interface ReadBack {
  bytes: Buffer;
  /** fstat of the descriptor the bytes came from (owner and mode checks use it). */
  stats: Stats;
}

/** The kinds of file never read, with the errno an open of one answers where it has its own
 *  (O_NOFOLLOW's ELOOP on a symlink swapped in after the lstat; O_RDONLY's EISDIR). */
const KIND: Array<{ is: (s: Stats) => boolean; name: string; errno?: string }> = [
  { is: (s) => s.isFIFO(), name: 'a FIFO' },
  { is: (s) => s.isCharacterDevice(), name: 'a character device' },
  { is: (s) => s.isBlockDevice(), name: 'a block device' },
  { is: (s) => s.isSocket(), name: 'a socket' },
  { is: (s) => s.isDirectory(), name: 'a directory', errno: 'EISDIR' },
  { is: (s) => s.isSymbolicLink(), name: 'a symbolic link', errno: 'ELOOP' },
];

const refusalText = (kind: string) => `is ${kind}, not a regular file; not read`;

/** What a file that is not a regular one is (`a FIFO`, `a symbolic link`, …); undefined for a regular file. */
export function fileKind(s: Stats): string | undefined {
  if (s.isFile()) return undefined;
  return KIND.find(({ is }) => is(s))?.name ?? 'a file of an unknown type';
}

/** Why a file of this type is not read, or undefined for a regular file. */
function refusalOf(s: Stats): string | undefined {
  const kind = fileKind(s);
  return kind && refusalText(kind);
}

const flagsOf = (o: ReadBackOptions) => constants.O_RDONLY | constants.O_NONBLOCK | (o.followSymlinks ? 0 : constants.O_NOFOLLOW);

/** A failed open or read in words: a refusal by type where the errno says the file's type, the one
 *  errno table's words otherwise. EPERM is said as EACCES: either way this reader may not read it. */
function errnoReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  const kind = KIND.find(({ errno }) => errno !== undefined && errno === code);
  if (kind) return refusalText(kind.name);
  return errnoText(code === 'EPERM' ? { code: 'EACCES' } : err);
}

/** After a failed read: undefined for a file that is not there, else the ReadBackError to throw. */
function failed(file: string, err: unknown): undefined {
  if (err instanceof ReadBackError) throw err;
  // ENOTDIR: a path through something that is not a directory names no file, as a missing one doesn't
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
  throw new ReadBackError(file, errnoReason(err), { cause: err });
}

/**
 * The bytes of one opened file, read into a buffer that grows (a file that grew since fstat, or a
 * /proc file, which says size 0) up to one byte past the cap, so "over the cap" is seen without
 * reading more. Constructed with the descriptor's fstat, which it checks first.
 */
class CappedRead {
  private buffer: Buffer;
  private length = 0;

  constructor(
    private readonly file: string,
    private readonly options: ReadBackOptions,
    readonly stats: Stats,
  ) {
    // the authoritative check, on what was opened (the name may have been swapped since the lstat)
    const refused = refusalOf(stats);
    if (refused) throw new ReadBackError(file, refused);
    this.buffer = Buffer.alloc(Math.min(options.maxBytes + 1, Math.max(stats.size + 1, 4096)));
  }

  /** Where the next read goes: buffer, offset, length. */
  next(): [Buffer, number, number] {
    if (this.length === this.buffer.length) {
      this.refuseOverCap();
      const grown = Buffer.alloc(Math.min(this.options.maxBytes + 1, this.buffer.length * 2));
      this.buffer.copy(grown);
      this.buffer = grown;
    }
    return [this.buffer, this.length, this.buffer.length - this.length];
  }

  /** Counts `n` bytes read; false at the end of the file. */
  took(n: number): boolean {
    this.length += n;
    return n > 0;
  }

  result(): ReadBack {
    this.refuseOverCap();
    return { bytes: this.buffer.subarray(0, this.length), stats: this.stats };
  }

  private refuseOverCap(): void {
    if (this.length > this.options.maxBytes) throw new ReadBackError(this.file, `is larger than ${this.options.maxBytes} bytes; not read`);
  }
}

/** The file's bytes and fstat, undefined when it does not exist; a ReadBackError for anything else. */
export async function readBack(file: string, options: ReadBackOptions): Promise<ReadBack | undefined> {
  try {
    // by type first, without opening: opening a device can have effects of its own
    const before = refusalOf(await (options.followSymlinks ? stat(file) : lstat(file)));
    if (before) throw new ReadBackError(file, before);
    const fd = await open(file, flagsOf(options));
    try {
      const read = new CappedRead(file, options, await fd.stat());
      while (read.took((await fd.read(...read.next(), null)).bytesRead));
      return read.result();
    } finally {
      await fd.close();
    }
  } catch (err) {
    return failed(file, err);
  }
}

/** readBack for the synchronous callers (the UUCP lock, taken before an event loop exists for it). */
export function readBackSync(file: string, options: ReadBackOptions): ReadBack | undefined {
  try {
    const before = refusalOf(options.followSymlinks ? statSync(file) : lstatSync(file));
    if (before) throw new ReadBackError(file, before);
    const fd = openSync(file, flagsOf(options));
    try {
      const read = new CappedRead(file, options, fstatSync(fd));
      while (read.took(readSync(fd, ...read.next(), null)));
      return read.result();
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    return failed(file, err);
  }
}

/** The first schema problem in words: `state: expected string` (the path, then zod's message). */
export function firstProblem(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'does not match its format';
  const where = issue.path.length ? `${issue.path.map(String).join('.')}: ` : '';
  return `${where}${issue.message}`;
}

/** JSON text checked by `schema`; a ReadBackError naming the file and the first problem otherwise. */
export function parseJsonWith<T>(file: string, text: string, schema: z.ZodType<T>): T {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ReadBackError(file, `is not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw new ReadBackError(file, `is not in the expected format (${firstProblem(parsed.error)})`);
  return parsed.data;
}

/** readBack + UTF-8 + parseJsonWith; undefined when the file does not exist. */
export async function readBackJson<T>(file: string, schema: z.ZodType<T>, options: ReadBackOptions): Promise<T | undefined> {
  const got = await readBack(file, options);
  return got && parseJsonWith(file, got.bytes.toString('utf8'), schema);
}
