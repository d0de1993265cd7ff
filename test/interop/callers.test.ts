/**
 * The dial-in server with many callers over TCP. Its pppd is test/helpers/echo-pppd.sh, a STAND-IN:
 * this machine's kernel has no PPP, so the real pppd exits 4 before it could negotiate anything.
 * Everything else is real: TCP sockets, pseudo-terminals, processes, and chat(8) over socat.
 */
import { execa } from 'execa';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { CallerServer } from '../../src/callers/server.js';
import { loadTlsState } from '../../src/tls/accepter.js';
import { makePki } from '../helpers/tls.js';
import { childPids, closed, connect, openFds, openServer, readBytes, settings } from '../helpers/callers-harness.js';

let dir: string;
let server: CallerServer | undefined;
const log: string[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'laplink-callers-'));
  log.length = 0;
});
afterEach(async (ctx) => {
  if (process.env.CALLERS_DEBUG && ctx.task.result?.state === "fail") console.log(log.join("\n"));
  await server?.close();
  server = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** Resolves once `test` holds, checking after every turn of the event loop's I/O. */
async function until(test: () => boolean): Promise<void> {
  while (!test()) await new Promise((r) => setTimeout(r, 5));
}

const hungUp = () => log.filter((l) => l.includes(': hung up: ')).length;

describe('callers over TCP (stand-in pppd)', () => {
  it('gives each caller its own pppd, pty and address, and echoes PPP bytes through it', async () => {
    const argvFile = join(dir, 'argv');
    server = await openServer(settings(dir, { env: { ECHO_PPPD_ARGV: argvFile } }), log);
    const [a, b] = await Promise.all([connect(server.address.port), connect(server.address.port)]);
    a.write('~A~');
    b.write('~B~');
    expect((await readBytes(a, 3)).toString()).toBe('~A~');
    expect((await readBytes(b, 3)).toString()).toBe('~B~');
    const callers = server.callers();
    expect(callers.map((c) => c.ip).sort()).toEqual(['192.168.7.10', '192.168.7.11']);
    expect(new Set(callers.map((c) => c.pppdPid)).size).toBe(2);
    expect(callers.every((c) => c.state === 'running' && c.bytesIn === 3 && c.bytesOut === 3)).toBe(true);
    const argv = readFileSync(argvFile, 'utf8').trim().split('\n');
    expect(argv.map((l) => l.split(' ')[2]).every((d) => d?.startsWith('/dev/pts/'))).toBe(true);
    expect(new Set(argv.map((l) => l.split(' ')[2])).size).toBe(2);
    expect(argv.map((l) => l.split(' ').at(-1)).sort()).toEqual([':192.168.7.10', ':192.168.7.11']);
    expect(log.some((l) => /^dialin\[127\.0\.0\.1:\d+ 192\.168\.7\.1[01]\]: Connect: ppp0 <--> \/dev\/pts\/\d+$/.test(l))).toBe(true);
    a.destroy();
    b.destroy();
    await until(() => hungUp() === 2);
  });

  it('leaks no pppd, pty, fd or address over 1,000 calls and hang-ups', async () => {
    const s = settings(dir);
    server = await openServer(s, log);
    const port = server.address.port;
    // Warm up once so lazily opened fds (the pty helper's libc, execa's modules) are in the baseline.
    const w = await connect(port);
    w.write('~');
    await readBytes(w, 1);
    w.destroy();
    await until(() => hungUp() === 1);
    const fdsBefore = openFds().length;
    const kidsBefore = childPids().length;
    const cycle = async (i: number): Promise<void> => {
      const c = await connect(port);
      c.write(`~${i % 10}`);
      expect((await readBytes(c, 2)).toString()).toBe(`~${i % 10}`);
      c.destroy();
    };
    for (let i = 0; i < 1000; i += 4) {
      await Promise.all([0, 1, 2, 3].map((k) => cycle(i + k)));
      // The next four call once these four are gone (max is 4: any earlier would hear busy).
      await until(() => hungUp() === i + 5);
    }
    await until(() => hungUp() === 1001);
    expect(server.callers()).toEqual([]);
    expect(s.pool.free).toBe(s.pool.size);
    expect(childPids()).toHaveLength(kidsBefore);
    expect(openFds().length).toBeLessThanOrEqual(fdsBefore);
    expect(readdirSync(dir)).toEqual([]); // no pty link left
    expect(log.filter((l) => l.includes('hung up: the caller hung up') || l.includes('hung up: pppd exited')).length).toBe(1001);
  }, 120_000);

  it('a pppd that stops reading its pty holds back its own caller only: another caller is still echoed', async () => {
    server = await openServer(settings(dir, { env: { ECHO_PPPD_STALL: join(dir, 'stalled') } }), log);
    const stuck = await connect(server.address.port);
    stuck.on('error', () => undefined);
    stuck.write('~A~');
    await until(() => existsSync(join(dir, 'stalled')));
    // Then far more than the pty and the sockets on the way hold.
    let accepted = false;
    stuck.write(Buffer.alloc(32 * 1024 * 1024, 0x7e), () => (accepted = true));
    // The stuck caller's bytes pile up until its path is full: a blocking write to the pty would
    // now hold the whole event loop, and with it every other caller (and this test's timers).
    await new Promise((r) => setTimeout(r, 500));
    const other = await connect(server.address.port);
    other.write('~B~');
    expect((await readBytes(other, 3)).toString()).toBe('~B~');
    expect(accepted).toBe(false);
    other.destroy();
    await until(() => hungUp() === 1);
    // Stopping the server ends the stuck call too: its pppd is killed, its pty closed.
    await server.close();
    server = undefined;
    expect(hungUp()).toBe(2);
    stuck.destroy();
  });

  it('ends the call when pppd exits, and pppd when the caller hangs up', async () => {
    server = await openServer(settings(dir, { env: { ECHO_PPPD_BYTES: '3' } }), log);
    const c = await connect(server.address.port);
    const got = readBytes(c, 100);
    c.write('~x~');
    expect((await got).toString()).toBe('~x~'); // then the socket closed: readBytes returned at close
    await closed(c);
    await until(() => hungUp() === 1);
    expect(log.at(-1)).toMatch(/hung up: pppd exited with status 0$/);
    expect(childPids()).toEqual([]);
  });

  it('drops a caller that never speaks after the idle timeout, before any pppd starts', async () => {
    const argvFile = join(dir, 'argv');
    server = await openServer(settings(dir, { idleMs: 300, env: { ECHO_PPPD_ARGV: argvFile } }), log);
    const c = await connect(server.address.port);
    await closed(c);
    await until(() => hungUp() === 1);
    expect(log.at(-1)).toMatch(/hung up: silent for 0\.3 s before PPP started$/);
    expect(existsSync(argvFile)).toBe(false);
  });

  it('closes a caller whose pppd hears no PPP frame (no 0x7E) within the idle timeout, and gives its address back', async () => {
    const s = settings(dir, { idleMs: 1000 });
    server = await openServer(s, log);
    const c = await connect(server.address.port);
    c.write('hello\r'); // its first byte starts pppd (protocol ppp), and none is a PPP flag
    expect((await readBytes(c, 6)).toString()).toBe('hello\r');
    const pid = server.callers()[0]!.pppdPid!;
    await closed(c);
    await until(() => hungUp() === 1);
    expect(log.at(-1)).toMatch(/hung up: no PPP from the caller within 1 s of pppd starting$/);
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(server.callers()).toEqual([]);
    expect(s.pool.free).toBe(s.pool.size);
  });

  it('closes a DCC guest that sends no PPP frame after CLIENTSERVER', async () => {
    server = await openServer(settings(dir, { protocol: 'dcc', idleMs: 1000 }), log);
    const c = await connect(server.address.port);
    c.write('CLIENT');
    expect((await readBytes(c, 12)).toString()).toBe('CLIENTSERVER');
    await closed(c);
    await until(() => hungUp() === 1);
    expect(log.at(-1)).toMatch(/hung up: no PPP from the caller within 1 s of CLIENTSERVER$/);
    expect(log.some((l) => / pppd \d+ on \/dev\/pts\//.test(l))).toBe(true);
  });

  it('counts a telnet caller\'s PPP flags after IAC decoding: a 0x7E inside a subnegotiation is not PPP', async () => {
    server = await openServer(settings(dir, { transport: 'telnet', idleMs: 1000 }), log);
    const c = await connect(server.address.port);
    await readBytes(c, 12); // IAC WILL ECHO, WILL SGA, WILL BINARY, DO BINARY
    // 'x' starts pppd; the window size 126 (0x7E) in IAC SB NAWS … IAC SE is telnet's, not pppd's.
    c.write(Buffer.from([0x78, 255, 250, 31, 0, 0x7e, 0, 24, 255, 240]));
    expect([...(await readBytes(c, 1))]).toEqual([0x78]);
    await closed(c);
    await until(() => hungUp() === 1);
    expect(log.at(-1)).toMatch(/hung up: no PPP from the caller within 1 s of pppd starting$/);
    expect(log.some((l) => /telnet: (NAWS|option 31) subnegotiation ignored$/.test(l))).toBe(true);
  });

  it('leaves a caller alone once a PPP frame has come, however quiet it is after', async () => {
    server = await openServer(settings(dir, { idleMs: 1000 }), log);
    const port = server.address.port;
    const quiet = await connect(port);
    quiet.write('~x~');
    expect((await readBytes(quiet, 3)).toString()).toBe('~x~');
    const pid = server.callers()[0]!.pppdPid!;
    // A caller whose pppd started after the quiet one's and that sends no PPP: once it has been
    // closed, the quiet caller's wait for its first frame has ended too.
    const later = await connect(port);
    later.write('x');
    await readBytes(later, 1);
    await closed(later);
    await until(() => hungUp() >= 1);
    expect(log.filter((l) => l.includes(': hung up: '))).toEqual([expect.stringMatching(/hung up: no PPP from the caller within 1 s of pppd starting$/)]);
    expect(server.callers()).toMatchObject([{ state: 'running', pppdPid: pid }]);
    quiet.write('~y~');
    expect((await readBytes(quiet, 3)).toString()).toBe('~y~');
    quiet.destroy();
    await until(() => hungUp() === 2);
  });

  it('drops a caller that sends too much before its handshake', async () => {
    server = await openServer(settings(dir, { protocol: 'modem', handshakeBytes: 100 }), log);
    const c = await connect(server.address.port);
    c.on('error', () => {});
    c.write(Buffer.alloc(300, 'A'));
    await closed(c);
    await until(() => hungUp() === 1);
    expect(log.at(-1)).toMatch(/hung up: (line error: )?sent more than 100 bytes before the handshake completed$/);
  });

  it('limits a connection flood from one address while another address still gets through', async () => {
    server = await openServer(settings(dir, { max: 20, gateOptions: { burst: 3, refillMs: 600_000 } }), log);
    const port = server.address.port;
    const flood = await Promise.all(Array.from({ length: 10 }, () => connect(port, '127.0.0.2')));
    const answers = await Promise.all(
      flood.map(async (c) => {
        c.on('error', () => {});
        c.write('~');
        return (await readBytes(c, 1)).toString();
      }),
    );
    expect(answers.filter((a) => a === '~')).toHaveLength(3);
    expect(log.filter((l) => l.includes('127.0.0.2 is calling too fast'))).toHaveLength(7);
    const other = await connect(port, '127.0.0.3');
    other.write('~');
    expect((await readBytes(other, 1)).toString()).toBe('~');
    for (const c of [...flood, other]) c.destroy();
    await until(() => hungUp() === 4);
  });

  it('takes telnet callers: IAC doubled both ways, CR NUL is CR, nothing of telnet reaches pppd', async () => {
    const copy = join(dir, 'copy');
    server = await openServer(settings(dir, { transport: 'telnet', env: { ECHO_PPPD_COPY: copy } }), log);
    const c = await connect(server.address.port);
    // IAC WILL ECHO, WILL SGA, WILL BINARY, DO BINARY: what DOSBox's telnet:1 and WiFi modems expect.
    expect([...(await readBytes(c, 12))]).toEqual([255, 251, 1, 255, 251, 3, 255, 251, 0, 255, 253, 0]);
    // The caller refuses to send BINARY: its CR is followed by NUL (NVT); PPP bytes carry 0xFF.
    c.write(Buffer.from([255, 252, 0]));
    expect([...(await readBytes(c, 3))]).toEqual([255, 254, 0]); // IAC DONT BINARY
    c.write(Buffer.from([0x7e, 0xff, 0xff, 0x0d, 0x00, 0x41, 0x7e]));
    expect([...(await readBytes(c, 6))]).toEqual([0x7e, 0xff, 0xff, 0x0d, 0x41, 0x7e]);
    // tee writes the echo before the copy: wait for the copy's bytes, then compare them.
    await until(() => existsSync(copy) && readFileSync(copy).length >= 5);
    expect([...readFileSync(copy)]).toEqual([0x7e, 0xff, 0x0d, 0x41, 0x7e]);
    c.destroy();
    await until(() => hungUp() === 1);
  });

  it('answers a Direct Cable Connection guest: CLIENT gets CLIENTSERVER, the PPP after it reaches pppd', async () => {
    const copy = join(dir, 'copy');
    server = await openServer(settings(dir, { protocol: 'dcc', env: { ECHO_PPPD_COPY: copy } }), log);
    const c = await connect(server.address.port);
    c.write('CLIENTCLI');
    expect((await readBytes(c, 12)).toString()).toBe('CLIENTSERVER');
    c.write('ENT~ppp~'); // Windows repeats CLIENT until it hears back: only what follows the first is PPP
    expect((await readBytes(c, 11)).toString()).toBe('CLIENT~ppp~');
    await until(() => existsSync(copy) && readFileSync(copy).length >= 11);
    expect(readFileSync(copy, 'latin1')).toBe('CLIENT~ppp~');
    c.destroy();
    await until(() => hungUp() === 1);
  });

  it('takes TLS callers through the bridge\'s TLS listener: a caller without the CA\'s certificate is refused', async () => {
    const pki = await makePki();
    try {
      const tls = await loadTlsState({ cert: pki.server.cert, key: pki.server.key, ca: pki.ca });
      server = await openServer(settings(dir), log, tls);
      const port = server.address.port;
      const dial = (cert?: { cert: string; key: string }) =>
        new Promise<TLSSocket>((resolve, reject) => {
          const s = tlsConnect({ host: '127.0.0.1', port, ca: readFileSync(pki.ca), servername: 'localhost', ...(cert ? { cert: readFileSync(cert.cert), key: readFileSync(cert.key) } : {}) }, () => resolve(s));
          s.once('error', reject);
        });
      const good = await dial(pki.client);
      good.write('~tls~');
      expect((await readBytes(good as unknown as Socket, 5)).toString()).toBe('~tls~');
      const stranger = await dial(pki.wrongCaClient).catch((err: Error) => err);
      if (!(stranger instanceof Error)) {
        stranger.on('error', () => {});
        stranger.write('~');
        expect((await readBytes(stranger as unknown as Socket, 1)).toString()).toBe('');
      }
      await until(() => log.some((l) => / refused: /.test(l)));
      expect(server.callers()).toHaveLength(1);
      good.destroy();
      await until(() => hungUp() === 1);
    } finally {
      pki.remove();
    }
  });

  it('stop ends every caller\'s pppd', async () => {
    server = await openServer(settings(dir), log);
    const cs = await Promise.all([0, 1, 2].map(() => connect(server!.address.port)));
    for (const c of cs) c.write('~');
    await Promise.all(cs.map((c) => readBytes(c, 1)));
    const pids = server.callers().map((c) => c.pppdPid!);
    expect(pids).toHaveLength(3);
    await server.close();
    server = undefined;
    for (const pid of pids) expect(existsSync(`/proc/${pid}`)).toBe(false);
    await Promise.all(cs.map(closed));
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('modem callers driven by real chat(8) over socat TCP', () => {
  /** A dialer's serial port bridged to TCP, as an emulator's `-serial tcp:` does: socat's pty. */
  async function dialer(port: number, name: string) {
    const link = join(dir, name);
    const socat = execa('socat', [`PTY,link=${link},raw,echo=0`, `TCP:127.0.0.1:${port}`], { reject: false });
    await until(() => existsSync(link));
    return { link, socat };
  }
  /** chat(8) on the dialer's tty with this script (each argument one chat word). */
  const chatScript = (link: string, timeout: number, ...script: string[]) =>
    execa('sh', ['-c', 'tty=$1; shift; exec chat -v "$@" <"$tty" >"$tty"', 'sh', link, '-t', String(timeout), ...script], { reject: false });
  const chat = (link: string, number: string) => chatScript(link, 5, 'ABORT', 'BUSY', '', 'ATZ', 'OK', `ATDT${number}`, 'CONNECT', '');
  /** Reads the dialer's tty until `want` has been heard. */
  async function hear(link: string, want: string): Promise<string> {
    const tty = await open(link, 'r');
    try {
      let heard = '';
      while (!heard.includes(want)) {
        const r = await tty.read(Buffer.alloc(64), 0, 64);
        heard += r.buffer.toString('latin1', 0, r.bytesRead);
      }
      return heard;
    } finally {
      await tty.close();
    }
  }

  it('answers ATDT with CONNECT, hands the call to pppd, and tells the caller past max BUSY', async () => {
    server = await openServer(settings(dir, { protocol: 'modem', max: 1 }), log);
    const first = await dialer(server.address.port, 'ttyA');
    const r = await chat(first.link, '5551234');
    expect(r.exitCode, r.stderr).toBe(0);
    await until(() => server!.callers()[0]?.state === 'running');
    expect(server.callers()[0]).toMatchObject({ ip: '192.168.7.10', dialled: '5551234' });
    // PPP bytes through the dialer's tty come back from the stand-in pppd.
    // chat stopped reading at "CONNECT": the rest of the result line (" 115200\r\n") comes first.
    const tty = await open(first.link, 'r+');
    await tty.write('~PPP~');
    let heard = '';
    while (!heard.endsWith('~PPP~')) {
      const r = await tty.read(Buffer.alloc(64), 0, 64);
      heard += r.buffer.toString('latin1', 0, r.bytesRead);
    }
    await tty.close();
    expect(heard).toMatch(/^ 115200\r\n\r?~PPP~$/);

    const second = await dialer(server.address.port, 'ttyB');
    const busy = await chat(second.link, '5550000');
    expect(busy.exitCode, busy.stderr).toBe(4); // chat: the first ABORT string (BUSY) matched
    expect(log.some((l) => l.includes('busy: 1 caller(s) already (max 1)'))).toBe(true);

    first.socat.kill('SIGTERM');
    await Promise.all([first.socat, second.socat]);
    await until(() => hungUp() === 1);
    expect(server.callers()).toEqual([]);
  });

  it('+++ after a guard time of silence, then ATH, ends the call; the dialer keeps its connection and dials again', async () => {
    server = await openServer(settings(dir, { protocol: 'modem', max: 1 }), log);
    const d = await dialer(server.address.port, 'ttyA');
    expect((await chat(d.link, '5551234')).exitCode).toBe(0);
    await until(() => server!.callers()[0]?.state === 'running');
    const [first] = server.callers();
    // chat's \d is a second of silence: the guard time before (S12 = 50: 1 s); the modem's OK
    // comes only after the guard time after, and ATH hangs up.
    // '~' first: a dialer's pppd sends PPP (its LCP) as soon as it hears CONNECT, and a call that
    // carries none is ended after the idle timeout.
    const hangUp = await chatScript(d.link, 5, '', '~\\d\\d+++\\c', 'OK', 'ATH', 'OK');
    expect(hangUp.exitCode, hangUp.stderr).toBe(0);
    await until(() => log.some((l) => l.endsWith('call over: the caller hung up with ATH; the modem is in command mode')));
    expect(existsSync(`/proc/${first!.pppdPid}`)).toBe(false);
    expect(server.callers()).toMatchObject([{ remote: first!.remote, state: 'handshaking' }]);
    expect(readdirSync(dir).filter((f) => f.includes('-caller-'))).toEqual([]); // the call's pty link is gone
    // The same connection dials again: a new pppd on a new pty.
    expect((await chat(d.link, '5550002')).exitCode).toBe(0);
    await until(() => server!.callers()[0]?.state === 'running');
    const [second] = server.callers();
    expect(second).toMatchObject({ remote: first!.remote, dialled: '5550002' });
    expect(second!.pppdPid).not.toBe(first!.pppdPid);
    d.socat.kill('SIGTERM');
    await d.socat;
    await until(() => hungUp() === 1);
  });

  it('no escape without the guard times: +++ATH at once, or +++ right after data, is data for pppd', async () => {
    const copy = join(dir, 'copy');
    server = await openServer(settings(dir, { protocol: 'modem', env: { ECHO_PPPD_COPY: copy } }), log);
    const d = await dialer(server.address.port, 'ttyA');
    expect((await chat(d.link, '5551234')).exitCode).toBe(0);
    await until(() => server!.callers()[0]?.state === 'running');
    const pid = server.callers()[0]!.pppdPid;
    // No silence after the pluses: chat hears its own words echoed by the stand-in, never OK (exit 3).
    expect((await chatScript(d.link, 3, '', '~\\d\\d+++ATH', 'OK')).exitCode).toBe(3);
    // Silence after, none before ('x' just ahead of the pluses): still data.
    expect((await chatScript(d.link, 3, '', 'x+++\\c', 'OK')).exitCode).toBe(3);
    expect(server.callers()[0]).toMatchObject({ state: 'running', pppdPid: pid });
    expect(readFileSync(copy, 'latin1')).toContain('+++ATH\rx+++');
    expect(log.some((l) => l.includes('escaped to command mode'))).toBe(false);
    d.socat.kill('SIGTERM');
    await d.socat;
    await until(() => hungUp() === 1);
  });

  it('a modem caller silent in command mode after its call is dropped after the idle timeout, like one that never dialled', async () => {
    server = await openServer(settings(dir, { protocol: 'modem', idleMs: 2500 }), log);
    const d = await dialer(server.address.port, 'ttyA');
    expect((await chat(d.link, '5551234')).exitCode).toBe(0);
    await until(() => server!.callers()[0]?.state === 'running');
    expect((await chatScript(d.link, 5, '', '~\\d\\d+++\\c', 'OK', 'ATH', 'OK')).exitCode).toBe(0);
    await until(() => hungUp() === 1);
    expect(log.at(-1)).toMatch(/hung up: (aborted by )?silent for 2\.5 s before PPP started$/);
    expect(log.some((l) => l.includes('call over: the caller hung up with ATH'))).toBe(true);
    d.socat.kill('SIGTERM');
    await d.socat;
  });

  it('tells the status file of every change: a caller arriving, its pppd starting, its call over, the caller gone', async () => {
    const seen: string[] = [];
    server = await openServer(settings(dir, { protocol: 'modem' }), log, undefined, () => seen.push(server!.callers().map((c) => c.state).join(',') || 'none'));
    const d = await dialer(server.address.port, 'ttyA');
    expect((await chat(d.link, '5551234')).exitCode).toBe(0);
    await until(() => seen.includes('running'));
    expect((await chatScript(d.link, 5, '', '~\\d\\d+++\\c', 'OK', 'ATH', 'OK')).exitCode).toBe(0);
    d.socat.kill('SIGTERM');
    await d.socat;
    await until(() => hungUp() === 1);
    expect(seen).toEqual(['handshaking', 'running', 'handshaking', 'none']);
  });

  it('pppd ending a modem call: the dialer hears NO CARRIER and its modem answers commands again', async () => {
    server = await openServer(settings(dir, { protocol: 'modem', env: { ECHO_PPPD_BYTES: '3' } }), log);
    const d = await dialer(server.address.port, 'ttyA');
    // '\c': no CR after CONNECT, so the stand-in's three bytes are the ones written below.
    expect((await chatScript(d.link, 5, '', 'ATDT5551234', 'CONNECT', '\\c')).exitCode).toBe(0);
    await until(() => server!.callers()[0]?.state === 'running');
    const heard = hear(d.link, 'NO CARRIER\r\n');
    const tty = await open(d.link, 'w');
    await tty.write('~x~'); // the stand-in echoes three bytes and exits
    await tty.close();
    expect(await heard).toMatch(/~x~\r\nNO CARRIER\r\n$/);
    expect(log.some((l) => l.endsWith('call over: pppd exited with status 0; the modem is in command mode'))).toBe(true);
    expect((await chatScript(d.link, 5, '', 'AT', 'OK')).exitCode).toBe(0);
    expect(server.callers()).toMatchObject([{ state: 'handshaking' }]);
    d.socat.kill('SIGTERM');
    await d.socat;
    await until(() => hungUp() === 1);
  });
});
