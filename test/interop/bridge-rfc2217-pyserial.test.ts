import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { serveLaplink } from '../helpers/bridge-processes.js';
import { openTty, randomPayload, receiveSha256, sha256 } from '../helpers/driver.js';
import { startPtyPair } from '../helpers/ptypair.js';

/**
 * pyserial's real RFC 2217 client (`serial.serial_for_url('rfc2217://…')`, Debian python3-serial,
 * always /usr/bin/python3: the pyenv python3 on PATH has no pyserial) against `laplink bridge serve
 * --protocol rfc2217` on one end of a socat pty pair. pyserial waits for the server's answer to every
 * change and raises if there is none or it does not match, so "accepted" below means acknowledged.
 *
 * What a pty can show on the device side (Linux pty driver, checked with `stty -F`):
 *   - speed: yes (stored in termios, read back exactly);
 *   - stop bits (cstopb) and hardware flow (crtscts): yes, the pty keeps these flags;
 *   - data bits and parity: NO, the pty forces cs8 and -parenb whatever is asked, so only the
 *     server's acknowledgement and continued data flow can be checked;
 *   - DTR/RTS, break: NO, a pty has no modem lines (TIOCMGET fails with ENOTTY) and no break
 *     signal, so again only acknowledgement and continued data flow.
 */
const PYTHON = '/usr/bin/python3';

const CLIENT = String.raw`
import json, sys, serial
port = serial.serial_for_url(sys.argv[1], baudrate=115200, timeout=5)
def reply(**kw):
    sys.stdout.write(json.dumps(kw) + "\n"); sys.stdout.flush()
reply(ok=True, op="open")
for line in sys.stdin:
    cmd = json.loads(line)
    try:
        op = cmd["op"]
        if op == "set":
            setattr(port, cmd["attr"], cmd["value"])
            reply(ok=True)
        elif op == "break":
            port.send_break(0.1)
            reply(ok=True)
        elif op == "purge":
            port.reset_input_buffer(); port.reset_output_buffer()
            reply(ok=True)
        elif op == "write":
            port.write(bytes.fromhex(cmd["hex"])); port.flush()
            reply(ok=True)
        elif op == "read":
            data = port.read(cmd["n"])
            reply(ok=True, hex=data.hex())
        elif op == "close":
            port.close(); reply(ok=True); break
    except Exception as e:
        reply(ok=False, error="%s: %s" % (type(e).__name__, e))
`;

interface Reply {
  ok: boolean;
  error?: string;
  hex?: string;
}

class PySerial {
  private readonly replies: Reply[] = [];
  private waiting: ((r: Reply) => void) | undefined;
  private stderr = '';

  constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const r = JSON.parse(line) as Reply;
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = undefined;
        w(r);
      } else this.replies.push(r);
    });
    child.stderr!.on('data', (c: Buffer) => (this.stderr += c.toString()));
    // pyserial raising on open ends the script: fail at once with its traceback, not after a timeout.
    child.once('close', (code) => {
      const w = this.waiting;
      this.waiting = undefined;
      w?.({ ok: false, error: `pyserial exited (${code}): ${this.stderr.trim().split('\n').slice(-1)[0] ?? ''}` });
    });
  }

  next(timeoutMs = 15_000): Promise<Reply> {
    const queued = this.replies.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`pyserial gave no answer in ${timeoutMs} ms: ${this.stderr.trim()}`)), timeoutMs);
      this.waiting = (r) => {
        clearTimeout(timer);
        resolve(r);
      };
    });
  }

  async call(cmd: Record<string, unknown>): Promise<Reply> {
    this.child.stdin!.write(`${JSON.stringify(cmd)}\n`);
    const r = await this.next();
    if (!r.ok) throw new Error(`pyserial ${JSON.stringify(cmd)}: ${r.error}`);
    return r;
  }

  stop(): void {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
  }
}

/** `stty -F DEV -a` as one string (pty termios as the device side sees it). */
const stty = (device: string): string => execFileSync('stty', ['-F', device, '-a'], { encoding: 'utf8' });
const speedOf = (device: string): number => Number(execFileSync('stty', ['-F', device, 'speed'], { encoding: 'utf8' }).trim());
const hasFlag = (device: string, flag: string): boolean => new RegExp(`(^|\\s)${flag}(\\s|$)`).test(stty(device));

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

beforeAll(() => {
  try {
    execFileSync(PYTHON, ['-c', 'import serial.rfc2217'], { stdio: 'pipe' });
  } catch (err) {
    throw new Error(`${PYTHON} with pyserial is required (Debian package python3-serial): ${(err as Error).message}`);
  }
});

async function setup(): Promise<{ device: string; far: ReturnType<typeof openTty>; py: PySerial; serve: Awaited<ReturnType<typeof serveLaplink>> }> {
  const pair = await startPtyPair();
  cleanups.push(pair.close);
  const serve = await serveLaplink(pair.a, ['--protocol', 'rfc2217']);
  cleanups.push(serve.stop);
  const child = spawn(PYTHON, ['-c', CLIENT, `rfc2217://127.0.0.1:${serve.port}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  const py = new PySerial(child);
  cleanups.push(() => py.stop());
  const opened = await py.next();
  expect(opened.ok, `pyserial opened rfc2217://127.0.0.1:${serve.port}: ${opened.error}`).toBe(true);
  const far = openTty(pair.b);
  cleanups.push(() => far.destroy());
  return { device: pair.a, far, py, serve };
}

/** Data both ways between pyserial and the far end of the cable, byte-exact. */
async function dataBothWays(py: PySerial, far: ReturnType<typeof openTty>, size = 4096): Promise<void> {
  const out = randomPayload(size);
  const atFar = receiveSha256(far, size, 15_000);
  await py.call({ op: 'write', hex: out.toString('hex') });
  expect(await atFar).toBe(sha256(out));
  const back = randomPayload(size);
  far.write(back);
  const got = await py.call({ op: 'read', n: size });
  expect(sha256(Buffer.from(got.hex!, 'hex'))).toBe(sha256(back));
}

describe('RFC 2217 server against pyserial rfc2217:// (real client)', () => {
  it('speed changes reach the device termios and data flows both ways', async () => {
    const { device, far, py } = await setup();
    await dataBothWays(py, far);
    for (const baud of [9600, 57600, 19200, 115200]) {
      await py.call({ op: 'set', attr: 'baudrate', value: baud });
      expect(speedOf(device), `device speed after pyserial set baudrate=${baud}`).toBe(baud);
    }
    await dataBothWays(py, far);
  });

  it('stop bits and RTS/CTS flow reach the device; data bits and parity are acknowledged (a pty forces cs8 -parenb)', async () => {
    const { device, far, py } = await setup();
    await py.call({ op: 'set', attr: 'stopbits', value: 2 });
    expect(hasFlag(device, 'cstopb'), 'cstopb after stopbits=2').toBe(true);
    await py.call({ op: 'set', attr: 'stopbits', value: 1 });
    expect(hasFlag(device, '-cstopb'), '-cstopb after stopbits=1').toBe(true);
    await py.call({ op: 'set', attr: 'rtscts', value: true });
    expect(hasFlag(device, 'crtscts'), 'crtscts after rtscts=True').toBe(true);
    await py.call({ op: 'set', attr: 'rtscts', value: false });
    expect(hasFlag(device, '-crtscts'), '-crtscts after rtscts=False').toBe(true);
    // Data bits and parity: acknowledged by the server (pyserial raises otherwise); the pty itself
    // cannot hold them, so the device still shows cs8 -parenb.
    await py.call({ op: 'set', attr: 'bytesize', value: 7 });
    await py.call({ op: 'set', attr: 'parity', value: 'E' });
    await py.call({ op: 'set', attr: 'parity', value: 'N' });
    await py.call({ op: 'set', attr: 'bytesize', value: 8 });
    expect(hasFlag(device, 'cs8') && hasFlag(device, '-parenb'), 'pty shows cs8 -parenb').toBe(true);
    await dataBothWays(py, far);
  });

  it('DTR/RTS, break and purge are acknowledged and the line keeps working', async () => {
    const { far, py } = await setup();
    for (const [attr, value] of [['dtr', false], ['rts', false], ['dtr', true], ['rts', true]] as const) {
      await py.call({ op: 'set', attr, value });
    }
    await py.call({ op: 'break' });
    await py.call({ op: 'purge' });
    await dataBothWays(py, far);
  });

  it("a pty's missing modem lines and break are said in one line, which names the device once", async () => {
    const { device, far, py, serve } = await setup();
    await py.call({ op: 'set', attr: 'dtr', value: false });
    await py.call({ op: 'break' }); // a pty has no break either: said in the same one line
    await py.call({ op: 'break' });
    await py.call({ op: 'set', attr: 'dtr', value: true });
    const log = await serve.waitForOutput(/no modem lines.*\n/);
    // bytes both ways after the requests: each request was handled before them, and said nothing more
    await dataBothWays(py, far);
    const said = (await serve.waitForOutput('')).split('\n').filter((l) => l.includes(' rfc2217: '));
    const client = /: (127\.0\.0\.1:\d+): rfc2217: /.exec(said[0] ?? '')?.[1];
    expect(said, log).toEqual([`laplink bridge: ${device}: ${client}: rfc2217: the device is a pty, which has no modem lines: DTR, RTS and BREAK requests are answered, not applied`]);
  });
});
