/**
 * A modem caller that hangs up and dials again without waiting in between, over a real TCP socket.
 * Its pppd is test/helpers/echo-pppd.sh, a STAND-IN: this machine's kernel has no PPP, so the
 * real pppd exits 4 before it could negotiate anything.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CallerServer, CallerServerSettings } from '../../src/callers/server.js';
import { connect, openServer, settings } from '../helpers/callers-harness.js';

let dir: string;
let server: CallerServer | undefined;
const log: string[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'laplink-callers-redial-'));
  log.length = 0;
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** Everything the dialer has heard so far, and a wait until it contains a text. */
function listen(s: net.Socket) {
  let heard = '';
  s.on('data', (b: Buffer) => (heard += b.toString('latin1')));
  return {
    text: () => heard,
    /** Resolves once `want` has been heard after `from` characters (a ceiling, not a timing: the test fails with what was heard). */
    async until(want: string, from = 0, ceilingMs = 10_000): Promise<number> {
      const deadline = Date.now() + ceilingMs;
      for (;;) {
        const at = heard.indexOf(want, from);
        if (at >= 0) return at + want.length;
        if (s.destroyed || Date.now() > deadline) throw new Error(`never heard ${JSON.stringify(want)}; heard ${JSON.stringify(heard.slice(from))}`);
        await sleep(5);
      }
    },
  };
}

/** Resolves once `test` holds (ceiling: the test fails with `what`). */
async function until(test: () => boolean, what: string, ceilingMs = 10_000): Promise<void> {
  const deadline = Date.now() + ceilingMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`${what}; log:\n${log.join('\n')}`);
    await sleep(5);
  }
}

/** A modem caller on a real socket that has dialled 5551234 and heard CONNECT: its socket, what it hears, and where. */
async function dialled(over: Partial<CallerServerSettings>) {
  server = await openServer(settings(dir, { protocol: 'modem', ...over }), log);
  const c = await connect(server.address.port);
  c.setNoDelay(true);
  const dialer = listen(c);
  c.write('ATDT5551234\r');
  const at = await dialer.until('CONNECT 115200\r\n');
  return { c, dialer, at };
}

/** The same, once the call's pppd runs: also the call as the server lists it. */
async function inCall(over: Partial<CallerServerSettings>) {
  const d = await dialled(over);
  await until(() => server!.callers()[0]?.state === 'running', 'the first call never ran');
  return { ...d, call: server!.callers()[0]! };
}

describe('a modem caller redialling at once (stand-in pppd)', () => {
  it('answers an ATDT that comes in the same segment as the ATH before it: a new pppd takes the call', async () => {
    const { c, dialer, call: first, ...d } = await inCall({ max: 1 });
    let at = d.at;
    c.write('~one~');
    at = await dialer.until('~one~', at);
    // The Hayes escape: a guard time of silence (S12 = 50: 1 s), +++, and the modem's OK once
    // another guard time has passed without a byte.
    await sleep(1100);
    c.write('+++');
    at = await dialer.until('OK\r\n', at);
    // One write, one segment: the hang-up and the next dial together, as a script that does not
    // wait for OK sends them.
    c.write('ATH\rATDT5550002\r');
    at = await dialer.until('ATH\r\r\nOK\r\n', at);
    at = await dialer.until('ATDT5550002\r\r\nCONNECT 115200\r\n', at);
    await until(() => server!.callers()[0]?.pppdPid !== undefined && server!.callers()[0]?.pppdPid !== first.pppdPid, 'no new pppd took the second call');
    expect(server!.callers()).toMatchObject([{ remote: first.remote, state: 'running', dialled: '5550002' }]);
    // The new call carries PPP: the new stand-in echoes it.
    c.write('~two~');
    await dialer.until('~two~', at);
    expect(log.some((l) => l.endsWith('call over: the caller hung up with ATH; the modem is in command mode'))).toBe(true);
    c.destroy();
    await until(() => log.some((l) => l.includes(': hung up: ')), 'the caller never hung up');
  }, 30_000);
});

describe('a caller\'s first PPP bytes and pppd starting (stand-in pppd that flushes its tty on start, as pppd does)', () => {
  it('what the caller sends right after CONNECT waits until pppd has set up its tty, and reaches it', async () => {
    const { c, dialer, at } = await dialled({ env: { ECHO_PPPD_FLUSH: '0.3' } });
    // A dialer's pppd sends its first LCP Configure-Request as soon as it hears CONNECT.
    c.write('~lcp~');
    await dialer.until('~lcp~', at);
    expect(log.some((l) => l.endsWith('Using interface ppp0'))).toBe(true);
    c.destroy();
    await until(() => log.some((l) => l.includes(': hung up: ')), 'the caller never hung up');
  }, 30_000);
});

describe('pppd ending a modem call while it still waits for its scripts (stand-in pppd)', () => {
  it('the dialer hears NO CARRIER once pppd says the link is terminated, and its next call\'s pppd starts after the old one is gone', async () => {
    // pppd closes its tty and says "Connection terminated." then waits for its ip-down scripts
    // before it exits: the stand-in waits 6 s there.
    const { c, dialer, call, ...d } = await inCall({ graceMs: 10_000, env: { ECHO_PPPD_BYTES: '3', ECHO_PPPD_LINGER: '6' } });
    let at = d.at;
    const old = call.pppdPid!;
    c.write('~x~'); // the stand-in echoes three bytes and ends the link
    at = await dialer.until('~x~\r\nNO CARRIER\r\n', at);
    expect(existsSync(`/proc/${old}`), 'pppd had already exited: NO CARRIER waited for it').toBe(true);
    expect(log.some((l) => l.endsWith('call over: pppd ended the link; the modem is in command mode'))).toBe(true);
    // The modem answers at once, and dials: the new call's pppd waits for the old one to exit
    // (its ip-down scripts act on an interface name the new pppd could get again).
    c.write('AT\r');
    at = await dialer.until('AT\r\r\nOK\r\n', at);
    expect(existsSync(`/proc/${old}`)).toBe(true);
    c.write('ATDT5550002\r');
    at = await dialer.until('CONNECT 115200\r\n', at);
    await until(() => server!.callers()[0]?.pppdPid !== undefined, 'no pppd took the second call', 20_000);
    expect(existsSync(`/proc/${old}`)).toBe(false);
    expect(server!.callers()).toMatchObject([{ state: 'running', dialled: '5550002' }]);
    c.write('~y~');
    await dialer.until('~y~', at);
    c.destroy();
    await until(() => log.some((l) => l.includes(': hung up: ')), 'the caller never hung up', 30_000);
  }, 60_000);
});

describe('a modem caller that sends no PPP after CONNECT (stand-in pppd)', () => {
  it('a dialer typing AT into its call past the idle timeout hears NO CARRIER, its pppd is gone, and its modem answers the next AT', async () => {
    const { c, dialer, call, ...d } = await inCall({ idleMs: 1500 });
    let at = d.at;
    // A dialer that gave up waiting for CONNECT and starts over: its AT commands go into the call
    // (the stand-in echoes them back), never a PPP flag byte.
    const typing = setInterval(() => c.write('AT\r'), 200);
    try {
      at = await dialer.until('NO CARRIER\r\n', at);
    } finally {
      clearInterval(typing);
    }
    expect(log.some((l) => l.endsWith('call over: no PPP from the caller within 1.5 s of CONNECT; the modem is in command mode'))).toBe(true);
    expect(existsSync(`/proc/${call.pppdPid!}`)).toBe(false);
    expect(server!.callers()).toMatchObject([{ remote: call.remote, state: 'handshaking' }]);
    expect(server!.callers()[0]?.pppdPid).toBeUndefined();
    expect(readdirSync(dir).filter((f) => f.includes('-caller-'))).toEqual([]); // the call's pty link is gone
    // ATZ, not AT: an AT typed just before NO CARRIER may be answered too.
    c.write('ATZ\r');
    await dialer.until('ATZ\r\r\nOK\r\n', at);
    c.destroy();
    await until(() => log.some((l) => l.includes(': hung up: ')), 'the caller never hung up');
    expect(server!.callers()).toEqual([]);
  }, 30_000);
});
