/**
 * The kernel serial counters (TIOCGICOUNT): the struct decoding on known bytes, and the reader on
 * what this host has: a socat pty pair (a pseudo-terminal keeps no counters: "no counters", with its
 * speed), things that are not ttys, which are never opened, and ptys the kernel will not open (a
 * locked one; as nobody, a private or an exclusive one), said in the one errno table's words. A real
 * UART's counters moving is proved in the qemu lab, where the guest's ttyS0 carries PPP.
 */
import { execa } from 'execa';
import { closeSync, constants as fsConstants, openSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { counterGrowth, decodeSerialIcount, ICOUNT_STRUCT_SIZE, lineTroubles, readTtyCounters, TtyCountersError, type SerialCounters } from '../../src/line/serial-counters.js';
import { startPtyPair, type PtyPair } from '../helpers/ptypair.js';

/** struct serial_icounter_struct as the kernel fills it: cts, dsr, rng, dcd, rx, tx, frame, overrun,
 *  parity, brk, buf_overrun, reserved[9], each a 32-bit int in host order. */
function icount(values: number[], order: 'LE' | 'BE'): Buffer {
  const buf = Buffer.alloc(ICOUNT_STRUCT_SIZE, 0xee); // reserved words hold garbage: never read
  values.forEach((v, i) => (order === 'LE' ? buf.writeUInt32LE(v >>> 0, i * 4) : buf.writeUInt32BE(v >>> 0, i * 4)));
  return buf;
}

describe('decodeSerialIcount', () => {
  it('maps each int of the struct to its field, in either byte order', () => {
    const values = [1, 2, 3, 4, 1000, 2000, 7, 8, 9, 10, 11];
    const want = { cts: 1, dsr: 2, ri: 3, dcd: 4, rx: 1000, tx: 2000, frame: 7, overrun: 8, parity: 9, brk: 10, bufOverrun: 11 };
    expect(decodeSerialIcount(icount(values, 'LE'), 'LE')).toEqual(want);
    expect(decodeSerialIcount(icount(values, 'BE'), 'BE')).toEqual(want);
  });

  it('reads a count past 2^31 as the unsigned counter it is, not a negative int', () => {
    const c = decodeSerialIcount(icount([0, 0, 0, 0, -2, 0x80000000, 0, 0, 0, 0, 0], 'LE'), 'LE');
    expect(c.rx).toBe(2 ** 32 - 2);
    expect(c.tx).toBe(2 ** 31);
  });

  it('refuses a buffer shorter than the struct', () => {
    expect(() => decodeSerialIcount(Buffer.alloc(40), 'LE')).toThrow(/needs 44 bytes, got 40/);
  });
});

describe('counterGrowth and lineTroubles', () => {
  const zero: SerialCounters = { rx: 0, tx: 0, frame: 0, parity: 0, overrun: 0, bufOverrun: 0, brk: 0, cts: 0, dsr: 0, ri: 0, dcd: 0 };

  it('counts growth across the 2^32 wrap', () => {
    expect(counterGrowth({ ...zero, rx: 2 ** 32 - 10 }, { ...zero, rx: 5 }).rx).toBe(15);
  });

  it('a clean interval says nothing; framing and parity errors point at speed, cable or noise', () => {
    expect(lineTroubles(counterGrowth(zero, { ...zero, rx: 1000, tx: 1000, dcd: 1 }))).toEqual([]);
    const t = lineTroubles(counterGrowth(zero, { ...zero, frame: 3, parity: 1, overrun: 2 }));
    expect(t.map((x) => [x.kind, x.count])).toEqual([
      ['framing', 4],
      ['overrun', 2],
    ]);
    expect(t[0]!.cause).toMatch(/differ in speed/);
  });
});

describe('readTtyCounters', () => {
  let pair: PtyPair | undefined;
  let dir = '';
  afterEach(async () => {
    await pair?.close();
    pair = undefined;
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = '';
  });

  it('a pty has no counters (its driver answers ENOTTY), but its speed is read', async () => {
    pair = await startPtyPair();
    const r = readTtyCounters(pair.a);
    expect(r.counters).toBeUndefined();
    expect(r.noCounters).toMatch(/keeps no counters/);
    expect(r.speed).toBeGreaterThan(0);
  });

  it('never opens what is not a tty: a regular file, /dev/null, a missing path', async () => {
    dir = await mkdtemp(join(tmpdir(), 'laplink-icount-'));
    const file = join(dir, 'not-a-tty');
    await writeFile(file, '');
    for (const [path, problem, text] of [
      [file, 'not-a-tty', /not a tty device/],
      ['/dev/null', 'not-a-tty', /not a tty device/],
      [join(dir, 'gone'), 'missing', `${join(dir, 'gone')}: no such file or directory`],
    ] as const) {
      let err: unknown;
      try {
        readTtyCounters(path);
      } catch (e) {
        err = e;
      }
      expect(err, path).toBeInstanceOf(TtyCountersError);
      expect((err as TtyCountersError).problem).toBe(problem);
      expect((err as Error).message).toMatch(text);
    }
  });

  it("a pty the kernel will not open for us: its errno in the one table's words, with the tty's hint", async () => {
    // a master opened without unlockpt(): the kernel's pty_open answers EIO for its slave
    const master = openSync('/dev/ptmx', fsConstants.O_RDWR | fsConstants.O_NOCTTY);
    try {
      const index = /^tty-index:\s*(\d+)$/m.exec(await readFile(`/proc/self/fdinfo/${master}`, 'utf8'))?.[1];
      expect(index, 'the kernel names the pty of a ptmx descriptor').toBeDefined();
      const slave = `/dev/pts/${index}`;
      const err = (() => {
        try {
          readTtyCounters(slave);
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(TtyCountersError);
      expect((err as TtyCountersError).problem).toBe('cannot-open');
      expect((err as Error).message).toBe(`${slave}: input/output error (on a pty: its other end is closed, or not unlocked yet)`);
    } finally {
      closeSync(master);
    }
  });

  it('as a user who may not open the pty, or while another holds it exclusively (TIOCEXCL): said so, with what to do', async () => {
    if (process.getuid?.() !== 0) throw new Error('this test drops from root to nobody with setpriv: run it as root');
    for (const [held, words] of [
      ['private', 'permission denied (the reader needs the dialout group or root)'],
      ['exclusive', 'device or resource busy (opened exclusively, TIOCEXCL)'],
    ] as const) {
      const holder = await holdPty(held);
      try {
        const r = await execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'node', '--input-type=module', '-e', readAsCaller(holder.path)], { reject: false });
        expect(r.stderr, held).toBe('');
        expect(JSON.parse(r.stdout), held).toEqual({ problem: 'cannot-open', message: `${holder.path}: ${words}` });
      } finally {
        await holder.release();
      }
    }
  });
});

/**
 * A pty held by python3 (its os.openpty), slave either mode 0600 (root's alone) or 0666 with
 * TIOCEXCL set, which refuses every later open but a CAP_SYS_ADMIN one: so a reader must be
 * someone else than root to meet either.
 */
async function holdPty(held: 'private' | 'exclusive'): Promise<{ path: string; release(): Promise<void> }> {
  const script = [
    'import fcntl, os, sys, termios',
    'master, slave = os.openpty()',
    'name = os.ttyname(slave)',
    `os.chmod(name, ${held === 'private' ? '0o600' : '0o666'})`,
    held === 'exclusive' ? 'fcntl.ioctl(slave, termios.TIOCEXCL)' : '',
    'print(name, flush=True)',
    'sys.stdin.read()',
  ].join('\n');
  const child = execa('python3', ['-c', script], { stdin: 'pipe', reject: false });
  const path = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()));
    void child.then((r) => reject(new Error(`python3 holding a pty ended before naming it: ${r.stderr || r.exitCode}`)));
  });
  return {
    path,
    release: async () => {
      child.stdin!.end();
      await child;
    },
  };
}

/** A module that reads `path`'s counters from the built tree (so it runs as another user without
 *  a TypeScript loader) and prints what it was refused with. */
function readAsCaller(path: string): string {
  const module = new URL('../../dist/src/line/serial-counters.js', import.meta.url).href;
  return `const { readTtyCounters } = await import(${JSON.stringify(module)});
try { readTtyCounters(${JSON.stringify(path)}); console.log('{}'); }
catch (err) { console.log(JSON.stringify({ problem: err.problem, message: err.message })); }`;
}
