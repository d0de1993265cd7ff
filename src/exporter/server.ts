/**
 * The exporter's HTTP(S) endpoint: `GET /metrics` in the format the scraper's Accept header asks for.
 * Between scrapes it holds no timer: Node's periodic connection check is pushed out of reach and each
 * connection carries its own idle deadline instead, which exists only while the connection does.
 * It listens through the bridge's Listener, so HTTPS is the bridge's TLS: the same flags, client
 * certificates and allow list, bounded handshakes and one log line per refused peer. The HTTP
 * server never listens itself; it is handed each connection the listener accepted.
 */
import http from 'node:http';
import type net from 'node:net';
import { ListenError, Listener } from '../listen/listener.js';
import type { HostPort } from '../listen/address.js';
import { LaplinkError } from '../errors.js';
import type { TlsServerSettings } from '../tls/settings.js';
import type { Exporter } from './collect.js';
import { CONTENT_TYPES, formatFor } from './exposition.js';

export const DEFAULT_EXPORTER_LISTEN = '127.0.0.1:9614';
/** A scraper that stops talking (or never starts) loses its connection after this long. */
const IDLE_MS = 10_000;
/** A request's headers must be complete this long after the connection opened or the last answer:
 *  a client trickling a byte at a time cannot hold one of the few connections for ever. */
const HEADERS_MS = 10_000;
/** Prometheus holds one connection per target; a few more for curl and a second server. */
const MAX_CONNECTIONS = 16;
/** Node's default re-checks every connection every 30 s even with none open; this moves it out of reach
 *  (setInterval's largest delay), the per-connection deadline above does its work. */
const NO_PERIODIC_CHECK_MS = 2 ** 31 - 1;

export class ExporterListenError extends LaplinkError {}

export interface ExporterServer {
  /** Where it listens (the port chosen when 0 was asked for). */
  address: HostPort;
  close(): Promise<void>;
}

const LANDING = '<html><head><title>laplink exporter</title></head><body><h1>laplink exporter</h1><p><a href="/metrics">/metrics</a></p></body></html>\n';

export async function startExporterServer(exporter: Exporter, where: HostPort, tls: TlsServerSettings | undefined, onError: (text: string) => void): Promise<ExporterServer> {
  const stop = new AbortController();
  const handler: http.RequestListener = (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('only GET and HEAD\n');
      return;
    }
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(req.method === 'HEAD' ? undefined : LANDING);
      return;
    }
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: the metrics are at /metrics\n');
      return;
    }
    const format = formatFor(req.headers.accept);
    exporter.scrape(format, stop.signal).then(
      (text) => res.writeHead(200, { 'content-type': CONTENT_TYPES[format] }).end(req.method === 'HEAD' ? undefined : text),
      (err: unknown) => {
        onError(`scrape failed: ${(err as Error).message}`);
        res.writeHead(500, { 'content-type': 'text/plain' }).end('scrape failed\n');
      },
    );
  };
  const options: http.ServerOptions = { connectionsCheckingInterval: NO_PERIODIC_CHECK_MS, requestTimeout: 0, headersTimeout: 0 };
  const server = http.createServer(options, handler);
  // the socket a request arrives on: the TLS socket for HTTPS, the TCP one for HTTP
  const headerDeadlines = new WeakMap<net.Socket, NodeJS.Timeout>();
  const awaitHeaders = (sock: net.Socket) => headerDeadlines.set(sock, setTimeout(() => sock.destroy(), HEADERS_MS));
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const sock = req.socket;
    clearTimeout(headerDeadlines.get(sock));
    res.once('finish', () => {
      if (!sock.destroyed) awaitHeaders(sock);
    });
  });
  const open = new Set<net.Socket>();
  const onClient = (sock: net.Socket) => {
    if (open.size >= MAX_CONNECTIONS) return void sock.destroy();
    open.add(sock);
    sock.setTimeout(IDLE_MS, () => sock.destroy());
    awaitHeaders(sock);
    sock.once('close', () => {
      open.delete(sock);
      clearTimeout(headerDeadlines.get(sock));
    });
    server.emit('connection', sock);
  };
  let listener: Listener;
  try {
    const tlsState = tls ? await (await import('../tls/accepter.js')).loadTlsState(tls) : undefined;
    listener = await Listener.open({ name: 'exporter', address: where, tls: tlsState, onClient, onRefused: (remote, reason) => onError(`${remote}: refused: ${reason}`) });
  } catch (err) {
    if (err instanceof ListenError) throw new ExporterListenError(err.message);
    throw err;
  }
  return {
    address: listener.address,
    close: async () => {
      stop.abort();
      const closed = listener.close();
      for (const sock of open) sock.destroy();
      server.close();
      await closed;
    },
  };
}
