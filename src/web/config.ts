/**
 * The `web:` section of a `bridge run` config: the browser pages served by the bridge's own process
 * (and unit), showing this bridge's ports through its control port, which the section therefore needs.
 *
 *   control: 127.0.0.1:2000
 *   web:
 *     listen: 127.0.0.1:8470
 *     passwordHash: "scrypt$…"      # from `laplink web hash-password`
 *     users:                        # or named users, each with its write rule (src/web/users.ts)
 *       - { name: alice, passwordHash: "scrypt$…", write: always }
 *     record: { dir: /var/log/laplink/casts, maxBytes: 8388608 }
 *     bridgeTls: { ca: /etc/laplink/ca.crt, cert: web.crt, key: web.key }   # consoles on TLS ports
 */
import { z } from 'zod';
import { parseListenAddress, type HostPort } from '../listen/address.js';
import { tlsClientProblems, type TlsClientSettings, type TlsServerSettings } from '../tls/settings.js';
import { DEFAULT_STATE_DIR } from '../pppd/defaults.js';
import { parsePasswordHash } from './password.js';
import { DEFAULT_MAX_SOCKETS, isLoopbackHost } from './limits.js';
import { WRITE_POLICIES, type WebUserSettings } from './users.js';

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

const passwordHashSchema = z.string().superRefine((v, ctx) => {
  try {
    parsePasswordHash(v, 'passwordHash');
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message.replace(/^passwordHash: /, '') });
  }
});

export const userSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, 'not a user name (allowed: 1-64 of A-Z a-z 0-9 . _ @ -, starting with a letter or digit; a client certificate whose CN is this name is this user)'),
    passwordHash: passwordHashSchema.optional(),
    write: z.enum(WRITE_POLICIES).default('when-free'),
  })
  .strict();

function userNamesOnce(users: ReadonlyArray<{ name: string }> | undefined, ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  users?.forEach((u, i) => {
    if (seen.has(u.name)) ctx.addIssue({ code: 'custom', path: ['users', i, 'name'], message: `${u.name} is named twice (allowed: one entry per user)` });
    seen.add(u.name);
  });
}

/**
 * The section's schema, built from the config's own `listen` and `tls:` schemas (passed in, so the
 * one address parser and TLS rules apply and this module need not import the bridge config).
 */
export function webSectionSchema(listen: z.ZodType<HostPort, string | number>, tls: z.ZodType<TlsServerSettings>) {
  return z
    .object({
      listen: listen.default(parseListenAddress('127.0.0.1:8470')),
      stateDir: z.string().min(1).default(DEFAULT_STATE_DIR),
      passwordHash: passwordHashSchema.optional(),
      users: z.array(userSchema).max(1000).optional(),
      tls: tls.optional(),
      bridgeTls: bridgeTlsSchema.optional(),
      maxSockets: z.number().int().min(1).max(100_000).default(DEFAULT_MAX_SOCKETS),
      /** Failed logins per source address (an IPv6 /64) per `window` seconds; past it, 429. */
      loginLimit: z
        .object({ failures: z.number().int().min(1).max(10_000), window: z.number().int().min(1).max(86_400) })
        .strict()
        .optional(),
      record: z
        .object({ dir: z.string().min(1), maxBytes: z.number().int().min(4096).max(1 << 30).default(8 << 20), keep: z.number().int().min(1).max(1000).default(10) })
        .strict()
        .optional(),
    })
    .strict()
    .superRefine((w, ctx) => {
      const passwords = w.passwordHash || w.users?.some((u) => u.passwordHash);
      if (!isLoopbackHost(w.listen.host) && !passwords && !(w.tls?.ca || w.tls?.allow?.length))
        ctx.addIssue({ code: 'custom', path: ['listen'], message: `${w.listen.host} is not a loopback address: a console reachable from the network needs passwordHash or client certificates (allowed: a loopback host, or tls with ca/allow)` });
      userNamesOnce(w.users, ctx);
    });
}

export interface WebSection {
  listen: HostPort;
  stateDir: string;
  passwordHash?: string;
  users?: WebUserSettings[];
  tls?: TlsServerSettings;
  bridgeTls?: TlsClientSettings;
  maxSockets: number;
  loginLimit?: { failures: number; window: number };
  record?: { dir: string; maxBytes: number; keep: number };
}

/** The one rule across sections: the pages learn the ports from the bridge's control port. */
export function webNeedsControl(cfg: { web?: unknown; control?: unknown }, ctx: z.RefinementCtx): void {
  if (cfg.web && !cfg.control) ctx.addIssue({ code: 'custom', path: ['web'], message: 'the web pages read the ports through the control port (allowed: with a control: section)' });
}

/** `laplink web --users-file`: the same entries as a section's `users:`, under the same key. */
export const usersFileSchema = z
  .object({ users: z.array(userSchema).max(1000) })
  .strict()
  .superRefine((f, ctx) => userNamesOnce(f.users, ctx));

/** The users of a section, as the server checks them. */
export async function userBookOf(w: Pick<WebSection, 'users' | 'passwordHash'>): Promise<import('./users.js').UserBook> {
  const { UserBook } = await import('./users.js');
  return new UserBook(w.users ?? [], w.passwordHash ? { hash: w.passwordHash, field: 'web.passwordHash' } : undefined);
}

export interface BridgeWeb {
  /** SIGHUP: the section read again. Users and passwords apply at once (pages still let in stay
   *  open); what needs a new listener (listen, tls, limits) waits for a restart, and says so. */
  reload(next: WebSection | undefined): Promise<string>;
}

/** Starts the pages for a running bridge whose control port listens at `control`. */
export async function startBridgeWeb(w: WebSection, control: HostPort, signal: AbortSignal, log: (line: string) => void): Promise<BridgeWeb> {
  const { WebServer } = await import('./server.js');
  const tls = w.tls ? await (await import('../tls/accepter.js')).loadTlsState(w.tls) : undefined;
  const server = await WebServer.start({
    listen: w.listen,
    stateDir: w.stateDir,
    controls: [{ host: control.host === '0.0.0.0' ? '127.0.0.1' : control.host === '::' ? '::1' : control.host, port: control.port }],
    tls,
    bridgeTls: w.bridgeTls,
    users: await userBookOf(w),
    maxSockets: w.maxSockets,
    loginLimit: w.loginLimit && { failures: w.loginLimit.failures, windowMs: w.loginLimit.window * 1000 },
    record: w.record,
    signal,
    log,
  });
  const a = server.address;
  log(`web: serving ${tls ? 'https' : 'http'}://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}/`);
  return {
    async reload(next) {
      if (!next) return 'web: the web: section is gone from the config: the pages keep running until the bridge restarts';
      const r = server.reload(await userBookOf(next));
      const { users: _u, passwordHash: _p, ...rest } = next;
      const { users: _u0, passwordHash: _p0, ...restBefore } = w;
      const restart = JSON.stringify(rest) === JSON.stringify(restBefore) ? '' : '; other web: settings apply when the bridge restarts';
      return `web: users and passwords reloaded: ${r.kept} page${r.kept === 1 ? '' : 's'} kept, ${r.closed} closed${restart}`;
    },
  };
}
