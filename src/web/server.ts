/**
 * `laplink web`: the status page and the port consoles over HTTP and WebSocket, on the bridge's
 * Listener (so TLS and client certificates work as on a bridge port). What reaches a page:
 *  - /ws/status: every view `status --watch` computes (same watcher, same events), pushed when it
 *    changed; nothing is sent, and nothing runs, while nothing changes;
 *  - /ws/console?port=HOST:PORT: one bridge port's bytes (src/web/console.ts); only ports the
 *    watched control ports list can be opened, so the server cannot be aimed at any other address.
 * Every WebSocket must come from a page of this server (Origin check), carry a login when a
 * password is set, keep its frames under MAX_FRAME_BYTES, and fit under maxSockets.
 */
import http from 'node:http';
import type net from 'node:net';
import { randomBytes } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import { LaplinkError } from '../errors.js';
import { Listener, type Peer } from '../listen/listener.js';
import { formatAddress, type HostPort } from '../listen/address.js';
import type { TlsState } from '../tls/accepter.js';
import { TlsDialer } from '../tls/dial.js';
import type { TlsClientSettings } from '../tls/settings.js';
import { watchStatus, type ControlAddress } from '../status/watch.js';
import { askControl, controlLabel } from '../status/control-client.js';
import type { LinkView, WatchView } from '../status/view.js';
import { PORT_DISABLED } from '../status/bridge-ports.js';
import { describeLine, describeQueue } from '../status/line-health.js';
import { AssetStore } from './assets.js';
import { PortConsole } from './console.js';
import { UserBook } from './users.js';
import { LoginLimiter, type LoginLimitSettings } from './login-limit.js';
import { CastRecorder } from './recorder.js';
import { sleep } from '../runtime/sleep.js';

import { DEFAULT_LOGIN_LIMIT, DEFAULT_MAX_SOCKETS, MAX_FRAME_BYTES } from './limits.js';

export { DEFAULT_MAX_SOCKETS, MAX_FRAME_BYTES };
const SESSION_COOKIE = 'laplink_session';
const MAX_LOGINS = 1000;
const LOGIN_TTL_MS = 12 * 3600_000;
/** Two scrypt checks at a time: a burst of logins costs bounded memory (32 MiB each) and CPU. */
const MAX_CONCURRENT_CHECKS = 2;
/** How long a console asked for before the control ports first answered waits for that answer
 *  (their own timeout is 2 s). */
const FIRST_VIEW_WAIT_MS = 5000;

export interface WebServerOptions {
  listen: HostPort;
  stateDir: string;
  controls: readonly ControlAddress[];
  tls?: TlsState;
  /** How to dial bridge ports that are on TLS: our client certificate, the port's CA or pins
   *  (default: the system's CAs and no client certificate). */
  bridgeTls?: TlsClientSettings;
  /** Who may log in, with which password, and who writes on a console (no book: nobody logs in). */
  users?: UserBook;
  /** Open WebSockets and HTTP connections together; past it, new ones are refused. */
  maxSockets?: number;
  /** Failed logins per source address per window (default DEFAULT_LOGIN_LIMIT). */
  loginLimit?: LoginLimitSettings;
  /** Per page, bytes queued unsent before its output is skipped. */
  viewerQueueBytes?: number;
  /** Recent output a joining page is shown. */
  ringBytes?: number;
  record?: { dir: string; maxBytes: number; keep: number };
  sysfsRoot?: string;
  signal: AbortSignal;
  log?: (line: string) => void;
}

export class WebServerError extends LaplinkError {}

/** A login: `name` is the user it logged in as ('' for the shared password, shown as `display`). */
interface Login {
  name: string;
  display: string;
  until: number;
}

/** Who a page is: the name shown; `user`, the user book's name it is (its write rule), when it is
 *  one; a page that logged in holds its login's token. */
interface Visitor {
  name: string;
  user?: string;
  token?: string;
}

/** A bridge port a console may be opened on, as its control port lists it. */
interface KnownPort {
  host: string;
  port: number;
  protocol: string;
  name: string;
  tls: boolean;
  /** The control port that listed it: where the pages behind a console are named (setclientlabel). */
  control: ControlAddress | undefined;
}

export class WebServer {
  private listener!: Listener;
  private dialer!: TlsDialer;
  private readonly http: http.Server;
  private readonly wss: WebSocketServer;
  private readonly assets = new AssetStore();
  private readonly logins = new Map<string, Login>();
  private book: UserBook;
  private readonly limiter: LoginLimiter;
  private readonly statusPages = new Set<WebSocket>();
  /** Every open page's WebSocket and who it is, so a reload can drop the ones no longer let in. */
  private readonly pages = new Map<WebSocket, Visitor>();
  private readonly consoles = new Map<string, PortConsole>();
  private readonly sockets = new Set<net.Socket>();
  private lastView: string | undefined;
  /** The ports the watched control ports list, by HOST:PORT, with their protocol. */
  private knownPorts = new Map<string, KnownPort>();
  /** Each console's label requests, one after another. */
  private readonly naming = new WeakMap<PortConsole, Promise<void>>();
  /** Settled by the first view: until the control ports have answered once, a console asked for
   *  right after start is not yet unknown, only not yet known. */
  private readonly firstView: Promise<void>;
  private sawFirstView = () => {};
  private checking = 0;
  /** Refusals, for tests and the log. */
  readonly refusals = { origin: 0, login: 0, full: 0, frame: 0, unknownPort: 0, loginLimit: 0 };

  private constructor(private readonly o: WebServerOptions) {
    this.firstView = new Promise((resolve) => (this.sawFirstView = resolve));
    this.book = o.users ?? new UserBook([]);
    this.limiter = new LoginLimiter(o.loginLimit ?? DEFAULT_LOGIN_LIMIT);
    this.http = http.createServer({ requestTimeout: 10_000, headersTimeout: 10_000, maxHeaderSize: 16 * 1024 }, (req, res) => void this.request(req, res));
    this.http.keepAliveTimeout = 5000;
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
    this.http.on('upgrade', (req, socket, head) => this.upgrade(req, socket as net.Socket, head));
  }

  static async start(o: WebServerOptions): Promise<WebServer> {
    const s = new WebServer(o);
    s.dialer = await TlsDialer.create(o.bridgeTls ?? {});
    s.listener = await Listener.open({
      name: 'web',
      address: o.listen,
      tls: o.tls,
      onClient: (socket, peer) => s.accept(socket, peer),
      onRefused: (remote, reason) => o.log?.(`web: refused ${remote}: ${reason}`),
    });
    const watch = watchStatus({ stateDir: o.stateDir, controls: o.controls, sysfsRoot: o.sysfsRoot, signal: o.signal, onView: (v) => s.view(v) });
    o.signal.addEventListener('abort', () => void s.stop(watch.done), { once: true });
    return s;
  }

  get address(): HostPort {
    return this.listener.address;
  }

  get openSockets(): number {
    return this.sockets.size;
  }

  consoleCounters(key: string): PortConsole['counters'] | undefined {
    return this.consoles.get(key)?.counters;
  }

  private async stop(watchDone: Promise<void>): Promise<void> {
    for (const c of this.consoles.values()) c.close();
    for (const ws of this.wss.clients) ws.terminate();
    for (const s of this.sockets) s.destroy();
    await Promise.all([this.listener.close(), watchDone]);
  }

  private accept(socket: net.Socket, peer: Peer): void {
    if (this.sockets.size >= (this.o.maxSockets ?? DEFAULT_MAX_SOCKETS)) {
      this.refusals.full++;
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      socket.destroySoon();
      return;
    }
    this.sockets.add(socket);
    // a phone that left without closing holds its slot until the kernel's keepalive finds it gone:
    // no timer of ours, so an idle page still costs the process nothing
    socket.setKeepAlive(true, 60_000);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    (socket as net.Socket & { laplinkPeer?: Peer }).laplinkPeer = peer;
    this.http.emit('connection', socket);
  }

  private view(v: WatchView): void {
    const ports = new Map<string, KnownPort>();
    for (const b of v.bridges) {
      // the view's bridges are those of the watched control ports; a bridge port listens where its control port does
      const control = this.o.controls.find((c) => controlLabel(c.host, c.port) === b.control);
      if (!control) continue;
      const host = control.host;
      for (const p of b.ports) if (/^\d+$/.test(p.port) && p.enable !== PORT_DISABLED) ports.set(formatAddress({ host, port: Number(p.port) }), { host, port: Number(p.port), protocol: p.enable, name: p.name, tls: p.tls === true, control });
    }
    this.knownPorts = ports;
    this.sawFirstView();
    // the same view minus its clock: a page is sent only what changed
    const { at: _at, ...rest } = v;
    const text = JSON.stringify({ type: 'view', view: { ...rest, links: rest.links.map(withHealthText), consoles: [...ports.keys()] } });
    if (text === this.lastView) return;
    this.lastView = text;
    for (const ws of this.statusPages) ws.send(text);
  }

  /** Who a request is, or undefined when it must log in first. */
  private visitor(req: http.IncomingMessage): Visitor | undefined {
    const peer = (req.socket as net.Socket & { laplinkPeer?: Peer }).laplinkPeer;
    // a CN means someone only when a CA the listener trusts signed it (anyone can write any name
    // into a self-signed certificate, even one whose key is on the allow list)
    const cn = this.o.tls?.policy.verifiesChain ? peer?.identity?.cn : undefined;
    const certName = peer?.identity ? (cn ?? peer.identity.fingerprint.slice(0, 19)) : undefined;
    // a certificate whose vouched-for CN the book names is that user: no password asked
    if (cn && this.book.has(cn)) return { name: cn, user: cn };
    if (!this.book.needsLogin) return { name: certName ?? peer?.remote ?? 'someone' };
    const token = /(?:^|;\s*)laplink_session=([A-Za-z0-9_-]{43})/.exec(req.headers.cookie ?? '')?.[1];
    const login = token ? this.logins.get(token) : undefined;
    if (!login || login.until < Date.now()) return undefined;
    return login.name ? { name: login.name, user: login.name, token } : { name: certName ?? login.display, token };
  }

  /**
   * Applies a new user book (SIGHUP): logins whose user is gone or whose password changed end, and
   * their pages are closed; every other page stays open, with the write rule its user has now.
   */
  reload(users: UserBook): { kept: number; closed: number } {
    const before = this.book;
    for (const [token, login] of this.logins) if (!users.stillLoggedIn(login.name, before)) this.logins.delete(token);
    this.book = users;
    let kept = 0;
    let closed = 0;
    for (const [ws, v] of this.pages) {
      const allowed = v.token ? this.logins.has(v.token) : !users.needsLogin || (v.user !== undefined && users.has(v.user));
      if (!allowed) {
        closed++;
        ws.close(4001, 'logged out: the web settings changed');
        continue;
      }
      kept++;
      if (v.user) for (const c of this.consoles.values()) c.updateUser(ws, users.user(v.user));
    }
    return { kept, closed };
  }

  private async request(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Content-Security-Policy', "default-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'");
    res.setHeader('Referrer-Policy', 'no-referrer');
    if (url.pathname === '/login' && req.method === 'POST') return this.login(req, res);
    const asset = url.pathname === '/' ? this.assets.get('/index.html') : this.assets.get(url.pathname);
    if (this.book.needsLogin && !this.visitor(req) && !/^\/(login\.html|style\.css|login\.js)$/.test(url.pathname)) {
      if (url.pathname.endsWith('.html') || url.pathname === '/') return void res.writeHead(303, { Location: '/login.html' }).end();
      return void res.writeHead(401).end();
    }
    if (!asset || req.method !== 'GET') return void res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
    res.writeHead(200, { 'Content-Type': asset.type, 'Cache-Control': 'no-cache' }).end(asset.body);
  }

  private async login(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const address = req.socket.remoteAddress ?? '';
    // before the body is read or a password checked: a guesser past its limit costs no scrypt
    const wait = this.limiter.retryAfter(address);
    if (wait) {
      this.refusals.loginLimit++;
      return void res.writeHead(429, { 'Retry-After': String(wait), 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' }).end(`too many failed logins from this address: try again in ${wait} s\n`);
    }
    const body = await readBody(req, 4096).catch(() => undefined);
    const form = body === undefined ? undefined : new URLSearchParams(body);
    const password = form?.get('password');
    const name = (form?.get('user') ?? '').trim();
    if (password == null || this.checking >= MAX_CONCURRENT_CHECKS || !this.book.needsLogin) {
      this.refusals.login++;
      return void res.writeHead(password == null || !this.book.needsLogin ? 400 : 503).end();
    }
    this.checking++;
    const book = this.book;
    const user = await book.logIn(name, password).finally(() => this.checking--);
    if (user === undefined) {
      this.refusals.login++;
      // one line per address per window, however many tries: the log cannot be flooded
      const line = this.limiter.failed(address);
      if (line) this.o.log?.(`web: ${line}`);
      return void res.writeHead(303, { Location: '/login.html?wrong' }).end();
    }
    if (this.logins.size >= MAX_LOGINS) this.logins.delete(this.logins.keys().next().value!);
    const token = randomBytes(32).toString('base64url');
    this.logins.set(token, { name: user, display: `${req.socket.remoteAddress}#${token.slice(0, 4)}`, until: Date.now() + LOGIN_TTL_MS });
    const secure = this.listener.tls ? '; Secure' : '';
    res.writeHead(303, { Location: '/', 'Set-Cookie': `${SESSION_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/${secure}` }).end();
  }

  private upgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer): void {
    const refuse = (status: number, kind: keyof WebServer['refusals']) => {
      this.refusals[kind]++;
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    // A page of another site may open a WebSocket here with the user's cookie: only our own pages may.
    const scheme = this.listener.tls ? 'https' : 'http';
    if (req.headers.origin !== `${scheme}://${req.headers.host}`) return refuse(403, 'origin');
    const visitor = this.visitor(req);
    if (!visitor) return refuse(401, 'login');
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/ws/status') {
      return this.wss.handleUpgrade(req, socket, head, (ws) => {
        this.statusPages.add(ws);
        this.track(ws, visitor);
        ws.on('close', () => this.statusPages.delete(ws));
        ws.on('message', () => undefined); // pages only listen here
        if (this.lastView) ws.send(this.lastView);
      });
    }
    const key = url.pathname === '/ws/console' ? url.searchParams.get('port') : undefined;
    if (!key) return refuse(404, 'unknownPort');
    // the first answer of the control ports is bounded by their own timeout; this bounds the wait too
    void Promise.race([this.firstView, sleep(FIRST_VIEW_WAIT_MS, this.o.signal)]).then(() => {
      const target = this.knownPorts.get(key);
      if (!target || socket.destroyed) return refuse(404, 'unknownPort');
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        this.track(ws, visitor);
        this.console(key, target).join(ws, visitor.user ? this.book.user(visitor.user) : { name: visitor.name, write: 'when-free' });
      });
    });
  }

  /** Keeps who a page is until it closes; an oversized frame closes it (ws checks maxPayload before
   *  buffering it). */
  private track(ws: WebSocket, v: Visitor): void {
    this.pages.set(ws, v);
    ws.on('close', () => this.pages.delete(ws));
    ws.on('error', () => {
      this.refusals.frame++;
      ws.terminate();
    });
  }

  private console(key: string, t: KnownPort): PortConsole {
    const open = this.consoles.get(key);
    if (open) return open;
    const rec = this.o.record;
    const c = new PortConsole({
      key,
      host: t.host,
      port: t.port,
      protocol: t.protocol,
      tls: t.tls ? { dialer: this.dialer, withCertificate: this.o.bridgeTls?.cert !== undefined } : undefined,
      ringBytes: this.o.ringBytes ?? 16 * 1024,
      viewerQueueBytes: this.o.viewerQueueBytes ?? 256 * 1024,
      recorder: rec ? new CastRecorder({ dir: rec.dir, name: `port-${t.port}`, maxBytes: rec.maxBytes, keep: rec.keep }) : undefined,
      onIdle: () => this.consoles.delete(key),
      onPages: () => this.namePages(c, t),
    });
    this.consoles.set(key, c);
    return c;
  }

  /**
   * Tells the port's control port who the pages behind this console are, so its showport (and
   * `status --watch`) lists them: to the bridge they are one client. The last label asked for wins;
   * a session the bridge has not adopted yet is asked for again once.
   */
  private namePages(c: PortConsole, t: KnownPort): void {
    const control = t.control;
    if (!control) return;
    const ask = async (retry: boolean): Promise<void> => {
      const at = c.clientAddress;
      if (!at || this.o.signal.aborted) return;
      const answer = (await askControl(control, `setclientlabel ${t.port} ${at} ${c.pagesLabel()}`, this.o.signal)).trim();
      if (answer.startsWith('No client') && retry) return sleep(200, this.o.signal).then(() => ask(false));
      if (answer) this.o.log?.(`web: ${controlLabel(control.host, control.port)}: ${answer}`);
    };
    const chain = (this.naming.get(c) ?? Promise.resolve()).then(() => ask(true)).catch((err: Error) => this.o.log?.(`web: ${err.message}`));
    this.naming.set(c, chain);
  }
}

/** A link with its line counters and queue in the words `status` prints them, so the page and the
 *  terminal say the same thing and the page needs no formatting rules of its own. */
function withHealthText(l: LinkView): LinkView & { lineText?: string; lineGrowing?: boolean; queueText?: string } {
  return { ...l, lineText: l.line && describeLine(l.line), lineGrowing: l.line?.troubles?.length ? true : undefined, queueText: l.queue && describeQueue(l.queue) };
}

function readBody(req: http.IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      text += c;
      if (text.length > limit) {
        req.destroy();
        reject(new Error('body too large'));
      }
    });
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}
