/**
 * One bridge port seen from the browser: a single TCP session to the port (made when the first page
 * opens it, closed with the last), its output fanned out to every page, and one writer.
 *
 * The line never waits for a viewer: each viewer's socket may hold at most `viewerQueueBytes` unsent;
 * past that its output is skipped (the page is told how many bytes it missed) until the socket drains.
 * So a page that stops reading (a phone put to sleep) costs its bounded queue and nothing else: the
 * other pages and the device go on at full speed. Only the writer's page is waited for, as the bridge
 * waits for any client of its own: it sees every byte. A page that joins is first sent the last screenful
 * (a ByteRing of the port's recent output).
 */
import net from 'node:net';
import type { TLSSocket } from 'node:tls';
import type WebSocket from 'ws';
import type { TlsDialer } from '../tls/dial.js';
import { dialFailure, isTlsFailure, type DialFailureOptions } from '../tls/dial-failure.js';
import { Rfc2217Client } from '../bridge/rfc2217-client.js';
import { comPortFrame, SET_BAUDRATE, SET_CONTROL } from '../bridge/rfc2217.js';
import { telnetClient } from '../bridge/telnet.js';
import { CLIENT_LABEL } from '../bridge/control-lines.js';
import type { Codec, CodecHost } from '../bridge/codec.js';
import { isTermiosSpeed } from '../bridge/port-options.js';
import { socketReason } from '../socket-reason.js';
import { ByteRing } from './ring.js';
import type { WebUser } from './users.js';
import type { CastRecorder } from './recorder.js';

/** RFC 2217 SET-CONTROL values for BREAK on and off. */
const BREAK_ON = 5;
const BREAK_OFF = 6;
const BREAK_MS = 250;
/** How a console names the bridge port it dials, and where a missing client certificate is given. */
const THE_PORT: DialFailureOptions = { who: 'the port', certificateHint: 'allowed: bridgeTls cert and key' };
/** A console's dial that failed, TLS's part said as such ("TLS: the port requires a client certificate"). */
function tlsClosed(err: NodeJS.ErrnoException): string {
  return isTlsFailure(err) ? `TLS: ${dialFailure(err, THE_PORT)}` : socketReason(err);
}
const CLOSED_AT_TLS = 'TLS: the port closed the session before sending anything: it may require a client certificate (allowed: bridgeTls cert and key)';
const CLOSED_AT_TLS_WITH_CERT = 'TLS: the port closed the session before sending anything: it may not accept our client certificate (its ca or allow list)';

export interface ConsoleOptions {
  /** `HOST:PORT` of the bridge port, as the status page names it. */
  key: string;
  host: string;
  port: number;
  /** `raw`, `telnet` or `rfc2217` (showport's enable state): how to speak to the port. */
  protocol: string;
  /** The port is on TLS: dialled with this client identity and its checks of the port's certificate. */
  tls?: { dialer: TlsDialer; withCertificate: boolean };
  ringBytes: number;
  viewerQueueBytes: number;
  recorder?: CastRecorder;
  onIdle: () => void;
  /** The pages or the session changed: the bridge's showport names who is behind this client. */
  onPages?: () => void;
}

export type Role = 'writer' | 'viewer';

interface Session {
  ws: WebSocket;
  user: WebUser;
  role: Role;
  /** Bytes left out since the socket last had room. */
  skipped: number;
  /** Bytes handed to the WebSocket and not yet written to its TCP socket. */
  queued: number;
}

export class PortConsole {
  private readonly sessions = new Set<Session>();
  private readonly ring: ByteRing;
  private socket: net.Socket | undefined;
  private codec: Codec | undefined;
  private speed: number | undefined;
  private state = 'connecting';
  /** The bridge socket is paused until the writer's page catches up. */
  private held = false;
  /** For tests and showport: bytes each way, bytes pages skipped or were refused, the largest queue a page had. */
  readonly counters = { fromDevice: 0, toDevice: 0, skipped: 0, refusedInput: 0, maxQueued: 0 };

  constructor(private readonly o: ConsoleOptions) {
    this.ring = new ByteRing(o.ringBytes);
    this.connect();
  }

  get canSetLine(): boolean {
    return this.o.protocol === 'rfc2217';
  }

  /**
   * A page arrives. Who writes, as conserver and ser2net users expect: a user marked `write: always`
   * takes the seat at once (the writer before is told who took it); anyone else writes only when the
   * seat is free; `write: never` never does.
   */
  join(ws: WebSocket, user: WebUser): void {
    // the bridge closed the session (restarted, device gone): a page arriving tries again
    if (this.state.startsWith('closed')) {
      this.state = 'connecting';
      this.connect();
    }
    const writer = this.writer();
    const writes = user.write === 'always' || (user.write === 'when-free' && !writer);
    const s: Session = { ws, user, role: writes ? 'writer' : 'viewer', skipped: 0, queued: 0 };
    if (writes && writer) this.setRole(writer, 'viewer', user.name);
    this.sessions.add(s);
    this.tell(s, { type: 'hello', port: this.o.key, protocol: this.o.protocol, user: user.name, write: user.write, role: s.role, state: this.state, speed: this.speed, canSetLine: this.canSetLine, viewers: this.sessions.size });
    const recent = this.ring.contents();
    if (recent.length) ws.send(recent);
    ws.on('message', (data, isBinary) => this.fromPage(s, data as Buffer, isBinary));
    ws.on('close', () => this.leave(s));
    this.announceCount();
  }

  /** The page's user has another write rule now (the settings were reloaded): applied at once. */
  updateUser(ws: WebSocket, user: WebUser): void {
    const s = [...this.sessions].find((x) => x.ws === ws);
    if (!s || (s.user.name === user.name && s.user.write === user.write)) return;
    s.user = user;
    if (user.write === 'never' && s.role === 'writer') {
      this.setRole(s, 'viewer');
      this.seatNext();
      this.announceCount();
    }
  }

  private writer(): Session | undefined {
    return [...this.sessions].find((x) => x.role === 'writer');
  }

  /** The seat is free: a page whose user always writes gets it, else the longest-standing page that may write. */
  private seatNext(): void {
    if (this.writer()) return;
    const may = [...this.sessions].filter((x) => x.user.write !== 'never');
    const next = may.find((x) => x.user.write === 'always') ?? may[0];
    if (next) this.setRole(next, 'writer');
  }

  close(): void {
    this.socket?.destroy();
    for (const s of this.sessions) s.ws.close(1001, 'server stopping');
    this.o.recorder?.close();
  }

  private leave(s: Session): void {
    this.sessions.delete(s);
    if (s.role === 'writer') this.release();
    if (this.sessions.size === 0) {
      this.socket?.destroy();
      this.o.recorder?.close();
      this.o.onIdle();
      return;
    }
    if (s.role === 'writer') this.seatNext();
    this.announceCount();
  }

  private fromPage(s: Session, data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      // a read-only page's keys go nowhere: counted, never written
      if (s.role !== 'writer') return void (this.counters.refusedInput += data.length);
      return this.toDevice(data);
    }
    let msg: { type?: unknown; speed?: unknown };
    try {
      msg = JSON.parse(data.toString('utf8')) as typeof msg;
    } catch {
      return this.tell(s, { type: 'error', message: 'a text frame must be JSON' });
    }
    if (msg.type === 'take') {
      if (s.user.write === 'never') return this.tell(s, { type: 'error', message: `${s.user.name} reads only (write: never)` });
      const holder = this.writer();
      if (holder && holder !== s && holder.user.write === 'always' && s.user.write !== 'always')
        return this.tell(s, { type: 'error', message: `${holder.user.name} holds the write seat (write: always)` });
      if (holder && holder !== s) this.setRole(holder, 'viewer', s.user.name);
      this.setRole(s, 'writer');
      return this.announceCount();
    }
    if (s.role !== 'writer') return this.tell(s, { type: 'error', message: 'read-only: take over to change the line' });
    if (!this.canSetLine) return this.tell(s, { type: 'error', message: `the port speaks ${this.o.protocol}: its line settings are fixed by the bridge (allowed: protocol rfc2217)` });
    if (msg.type === 'break') {
      this.socket?.write(comPortFrame(SET_CONTROL, [BREAK_ON]));
      setTimeout(() => this.socket?.write(comPortFrame(SET_CONTROL, [BREAK_OFF])), BREAK_MS).unref();
      return this.broadcast({ type: 'notice', message: `BREAK sent by ${s.user.name}` });
    }
    if (msg.type === 'speed') {
      const speed = Number(msg.speed);
      if (!Number.isInteger(speed) || !isTermiosSpeed(speed)) return this.tell(s, { type: 'error', message: `speed: ${String(msg.speed)} is not a termios speed` });
      const b = Buffer.alloc(4);
      b.writeUInt32BE(speed);
      this.socket?.write(comPortFrame(SET_BAUDRATE, b));
      return;
    }
    this.tell(s, { type: 'error', message: 'unknown request' });
  }

  private toDevice(data: Buffer): void {
    if (!this.socket || this.state !== 'open') return;
    this.counters.toDevice += data.length;
    this.socket.write(this.codec ? this.codec.encode(data) : data);
  }

  private setRole(s: Session, role: Role, by?: string): void {
    s.role = role;
    if (role === 'viewer') this.release();
    this.tell(s, { type: 'role', role, by });
  }

  private announceCount(): void {
    this.broadcast({ type: 'viewers', viewers: this.sessions.size, writer: this.writer()?.user.name });
    this.o.onPages?.();
  }

  /** Who is behind this console's one session to the port, for showport: `web: alice writes; bob
   *  carol read`, or only the counts when the names would be too long for a label. */
  pagesLabel(): string {
    const writer = this.writer()?.user.name;
    const viewers = [...this.sessions].filter((x) => x.role === 'viewer').map((x) => x.user.name);
    const read = (who: string, n: number) => `${who} read${n === 1 ? 's' : ''}`;
    const named = `web: ${writer ? `${writer} writes` : 'nobody writes'}${viewers.length ? `; ${read(viewers.join(' '), viewers.length)}` : ''}`;
    const counted = `web: ${writer ? '1 page writes' : 'nobody writes'}${viewers.length ? `; ${viewers.length} ${viewers.length === 1 ? 'page reads' : 'pages read'}` : ''}`;
    return CLIENT_LABEL.test(named) ? named : counted;
  }

  /** This console's end of its session as the bridge names the client (HOST:PORT), once open. */
  get clientAddress(): string | undefined {
    const sock = this.socket;
    return this.state === 'open' && sock?.localAddress ? `${sock.localAddress}:${sock.localPort}` : undefined;
  }

  private tell(s: Session, msg: object): void {
    if (s.ws.readyState === s.ws.OPEN) s.ws.send(JSON.stringify(msg));
  }

  private broadcast(msg: object): void {
    for (const s of this.sessions) this.tell(s, msg);
  }

  private fromDevice(data: Buffer): void {
    if (!data.length) return;
    this.counters.fromDevice += data.length;
    this.ring.push(data);
    this.o.recorder?.write(data);
    const bound = this.o.viewerQueueBytes;
    for (const s of this.sessions) {
      if (s.ws.readyState !== s.ws.OPEN) continue;
      if (s.role === 'viewer' && s.queued + data.length > bound) {
        s.skipped += data.length;
        this.counters.skipped += data.length;
        continue;
      }
      if (s.skipped) {
        s.ws.send(JSON.stringify({ type: 'skipped', bytes: s.skipped }));
        s.skipped = 0;
      }
      this.queue(s, data);
      if (s.role === 'writer' && s.queued > bound && !this.held) {
        // the writer's page is flow-controlled like any client of the bridge: the bridge then holds
        // the device's bytes (and its flow control holds the device); viewers are never waited for
        this.held = true;
        this.socket?.pause();
      }
    }
  }

  private queue(s: Session, data: Buffer): void {
    s.queued += data.length;
    if (s.queued > this.counters.maxQueued && s.role === 'viewer') this.counters.maxQueued = s.queued;
    s.ws.send(data, () => {
      s.queued -= data.length;
      if (this.held && s.role === 'writer' && s.queued <= this.o.viewerQueueBytes / 2) this.release();
    });
  }

  private release(): void {
    if (!this.held) return;
    this.held = false;
    this.socket?.resume();
  }

  private connect(): void {
    const dialer = this.o.tls?.dialer;
    // A TLS port refuses a client certificate after the handshake, by closing (no alert): a session
    // that ends before the port sent anything is most likely that, and the page should say so.
    let heard = false;
    const sock = dialer ? dialer.connect(this.o.host, this.o.port) : net.connect({ host: this.o.host, port: this.o.port, noDelay: true });
    this.socket = sock;
    const host: CodecHost = {
      reply: (b) => void sock.write(b),
      line: () => undefined,
      log: (message) => {
        const m = /server speed (\d+)/.exec(message);
        if (m) {
          this.speed = Number(m[1]);
          this.broadcast({ type: 'line', speed: this.speed });
        }
      },
      flow: () => undefined,
    };
    const codec: Codec | undefined = this.o.protocol === 'rfc2217' ? new Rfc2217Client(host) : this.o.protocol === 'telnet' ? telnetClient(host) : undefined;
    this.codec = codec;
    sock.on(dialer ? 'secureConnect' : 'connect', () => {
      const refusal = dialer?.refusal(sock as TLSSocket);
      if (refusal) {
        this.state = `closed: TLS: ${refusal}`;
        return void sock.destroy();
      }
      this.state = 'open';
      const greet = this.codec?.greeting();
      if (greet?.length) sock.write(greet);
      // speed 0 asks the port for its current speed (RFC 2217): the pages show it from the answer
      if (this.canSetLine) sock.write(comPortFrame(SET_BAUDRATE, [0, 0, 0, 0]));
      this.broadcast({ type: 'state', state: 'open' });
      this.o.onPages?.();
    });
    sock.on('data', (chunk: Buffer) => {
      heard = true;
      this.fromDevice(this.codec ? this.codec.decode(chunk) : chunk);
    });
    sock.on('error', (err) => {
      if (sock === this.socket) this.state = `closed: ${dialer ? tlsClosed(err) : socketReason(err)}`;
    });
    sock.on('close', () => {
      codec?.dispose?.();
      if (sock !== this.socket) return; // an earlier session's end
      if (!this.state.startsWith('closed')) this.state = dialer && !heard ? `closed: ${this.o.tls!.withCertificate ? CLOSED_AT_TLS_WITH_CERT : CLOSED_AT_TLS}` : 'closed by the bridge';
      this.broadcast({ type: 'state', state: this.state });
    });
  }
}
