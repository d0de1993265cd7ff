/**
 * The addon's system calls through their typed wrappers (src/line/libc.ts), on what this host has:
 * a new pseudo-terminal, /dev/null (not a tty), and AF_UNIX datagram sockets bound by python3's
 * socket module (a real receiver, as systemd's notify socket would be). Each failure is a
 * SyscallError naming the call and the errno; a wrong argument is the C side's TypeError.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { makeRaw, openPty, outputSpeed, sendBreak, sendDatagram, serialIcount, SyscallError } from '../../src/line/libc.js';
import { addon } from '../../src/native/addon.js';
import { notifyAddress } from '../../src/runtime/sd-notify.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function devNull(): number {
  const fd = openSync('/dev/null', 'r');
  cleanups.push(() => closeSync(fd));
  return fd;
}

function syscallFailure(fn: () => unknown): SyscallError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SyscallError);
    return err as SyscallError;
  }
  throw new Error('the call did not fail');
}

describe('the addon', () => {
  it('is built (npm run build compiles native/*.c)', () => {
    expect(addon, 'dist/native/pump.node did not load').toBeDefined();
  });

  it('throws a TypeError for a wrong argument, and makes no call', () => {
    expect(() => addon!.makeRaw(-1)).toThrow(TypeError);
    expect(() => addon!.ptsName('3' as unknown as number)).toThrow(/ptsName\(fd\): fd must be a non-negative integer/);
    expect(() => addon!.serialCounters(0, Buffer.alloc(40))).toThrow(/smaller than struct serial_icounter_struct/);
    expect(() => addon!.sendDatagram(Buffer.from([2, 0, 47]), Buffer.from('x'))).toThrow(/not AF_UNIX/);
    expect(() => addon!.sendDatagram(Buffer.alloc(200), Buffer.from('x'))).toThrow(/not a struct sockaddr_un/);
  });
});

describe('pseudo-terminal and termios', () => {
  it('openPty makes a pty whose slave exists; makeRaw and outputSpeed work on the slave', () => {
    const { master, slavePath } = openPty();
    cleanups.push(() => closeSync(master));
    expect(slavePath).toMatch(/^\/dev\/pts\/\d+$/);
    expect(existsSync(slavePath)).toBe(true);
    const slave = openSync(slavePath, 'r+');
    cleanups.push(() => closeSync(slave));
    makeRaw(slave);
    expect(outputSpeed(slave)).toBe(38400); // a new pty's default
  });

  it('a pty keeps no counters: TIOCGICOUNT fails with ENOTTY', () => {
    const { master } = openPty();
    cleanups.push(() => closeSync(master));
    const err = syscallFailure(() => serialIcount(master, Buffer.alloc(80)));
    expect([err.syscall, err.code]).toEqual(['ioctl TIOCGICOUNT', 'ENOTTY']);
  });

  it('on something that is not a tty each call says which call failed and why', () => {
    const fd = devNull();
    for (const [call, fn] of [['tcsetattr', () => makeRaw(fd)], ['tcgetattr', () => outputSpeed(fd)], ['tcsendbreak', () => sendBreak(fd)]] as const) {
      const err = syscallFailure(fn);
      expect(err.message).toBe(`${call}: not a terminal (ENOTTY)`);
      expect(err.errno).toBe(25);
    }
  });
});

describe('sendDatagram', () => {
  /** python3 bound to `name` (@ for abstract), printing each datagram it receives as a line. */
  async function receiver(name: string): Promise<string[]> {
    const script = "import socket,sys\na=sys.argv[1]\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\ns.bind('\\0'+a[1:] if a[0]=='@' else a)\nprint('bound',flush=True)\nwhile True: print(s.recv(4096).decode(),flush=True)\n";
    const py = spawn('/usr/bin/python3', ['-c', script, name], { stdio: ['ignore', 'pipe', 'inherit'] });
    cleanups.push(async () => {
      py.kill();
      if (py.exitCode === null && py.signalCode === null) await once(py, 'exit');
    });
    const lines: string[] = [];
    const input = createInterface({ input: py.stdout });
    input.on('line', (l) => lines.push(l));
    const [first] = (await once(input, 'line')) as [string];
    expect(first).toBe('bound');
    lines.length = 0;
    return lines;
  }

  async function arrived(lines: string[], n: number): Promise<void> {
    while (lines.length < n) await new Promise((r) => setTimeout(r, 10));
  }

  it('reaches a socket bound to a path and one with an abstract name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'laplink-dgram-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    for (const name of [join(dir, 'notify'), `@laplink-test-${process.pid}`]) {
      const lines = await receiver(name);
      const target = notifyAddress(name)!;
      sendDatagram(target.addr.subarray(0, target.length), Buffer.from('READY=1'));
      await arrived(lines, 1);
      expect(lines).toEqual(['READY=1']);
    }
  });

  it('to a path nobody listens on: ENOENT, as sendto says it', () => {
    const target = notifyAddress(join(tmpdir(), `laplink-nobody-${process.pid}`))!;
    const err = syscallFailure(() => sendDatagram(target.addr.subarray(0, target.length), Buffer.from('READY=1')));
    expect(err.message).toBe('sendto: no such file or directory (ENOENT)');
  });
});
