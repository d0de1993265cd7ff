/**
 * The `web:` section of a `bridge run` config: the browser pages served by the bridge's own process
 * (and unit), showing this bridge's ports through its control port, which the section therefore needs.
 *
 *   control: 127.0.0.1:2000
 *   web:
 *     listen: 127.0.0.1:8470
 *     passwordHash: "scrypt$…"      # from `laplink web hash-password`
 *     record: { dir: /var/log/laplink/casts, maxBytes: 8388608 }
 *     bridgeTls: { ca: /etc/laplink/ca.crt, cert: web.crt, key: web.key }   # consoles on TLS ports
 */
import { z } from 'zod';
import { parseListenAddress, type HostPort } from '../listen/address.js';
import { tlsClientProblems, type TlsClientSettings, type TlsServerSettings } from '../tls/settings.js';
import { DEFAULT_STATE_DIR } from '../pppd/defaults.js';
import { parsePasswordHash } from './password.js';
import { DEFAULT_MAX_SOCKETS, isLoopbackHost } from './limits.js';

/** How the consoles dial this bridge's ports that are on TLS: the same fields as a profile's `bridgeTls`. */
const bridgeTlsSchema = z
  .object({
    ca: z.string().min(1).optional(),
    cert: z.string().min(1).optional(),
    key: z.string().min(1).optional(),
    pin: z.array(z.string()).min(1).optional(),
    serverName: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((t, ctx) => {
    for (const p of tlsClientProblems(t)) ctx.addIssue({ code: 'custom', message: p.replace(/--tls-(\w+)/g, (_m, f: string) => (f === 'server-name' ? 'serverName' : f)) });
  });

/**
 * The section's schema, built from the config's own `listen` and `tls:` schemas (passed in, so the
 * one address parser and TLS rules apply and this module need not import the bridge config).
 */
export function webSectionSchema(listen: z.ZodType<HostPort, string | number>, tls: z.ZodType<TlsServerSettings>) {
  return z
    .object({
      listen: listen.default(parseListenAddress('127.0.0.1:8470')),
      stateDir: z.string().min(1).default(DEFAULT_STATE_DIR),
      passwordHash: z
        .string()
        .superRefine((v, ctx) => {
          try {
            parsePasswordHash(v, 'passwordHash');
          } catch (err) {
            ctx.addIssue({ code: 'custom', message: (err as Error).message.replace(/^passwordHash: /, '') });
          }
        })
        .optional(),
      tls: tls.optional(),
      bridgeTls: bridgeTlsSchema.optional(),
      maxSockets: z.number().int().min(1).max(100_000).default(DEFAULT_MAX_SOCKETS),
      record: z
        .object({ dir: z.string().min(1), maxBytes: z.number().int().min(4096).max(1 << 30).default(8 << 20), keep: z.number().int().min(1).max(1000).default(10) })
        .strict()
        .optional(),
    })
    .strict()
    .superRefine((w, ctx) => {
      if (!isLoopbackHost(w.listen.host) && !w.passwordHash && !(w.tls?.ca || w.tls?.allow?.length))
        ctx.addIssue({ code: 'custom', path: ['listen'], message: `${w.listen.host} is not a loopback address: a console reachable from the network needs passwordHash or client certificates (allowed: a loopback host, or tls with ca/allow)` });
    });
}

export interface WebSection {
  listen: HostPort;
  stateDir: string;
  passwordHash?: string;
  tls?: TlsServerSettings;
  bridgeTls?: TlsClientSettings;
  maxSockets: number;
  record?: { dir: string; maxBytes: number; keep: number };
}

/** The one rule across sections: the pages learn the ports from the bridge's control port. */
export function webNeedsControl(cfg: { web?: unknown; control?: unknown }, ctx: z.RefinementCtx): void {
  if (cfg.web && !cfg.control) ctx.addIssue({ code: 'custom', path: ['web'], message: 'the web pages read the ports through the control port (allowed: with a control: section)' });
}

/** Starts the pages for a running bridge whose control port listens at `control`. */
export async function startBridgeWeb(w: WebSection, control: HostPort, signal: AbortSignal, log: (line: string) => void): Promise<void> {
  const { WebServer } = await import('./server.js');
  const { PasswordCheck } = await import('./password.js');
  const tls = w.tls ? await (await import('../tls/accepter.js')).loadTlsState(w.tls) : undefined;
  const server = await WebServer.start({
    listen: w.listen,
    stateDir: w.stateDir,
    controls: [{ host: control.host === '0.0.0.0' ? '127.0.0.1' : control.host === '::' ? '::1' : control.host, port: control.port }],
    tls,
    bridgeTls: w.bridgeTls,
    password: w.passwordHash ? new PasswordCheck(w.passwordHash, 'web.passwordHash') : undefined,
    maxSockets: w.maxSockets,
    record: w.record,
    signal,
    log,
  });
  const a = server.address;
  log(`web: serving ${tls ? 'https' : 'http'}://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}/`);
}
