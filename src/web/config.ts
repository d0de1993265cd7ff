/**
 * The `web:` section of a `bridge run` config: the browser pages served by the bridge's own process
 * (and unit), showing this bridge's ports through its control port, which the section therefore needs.
 *
 *   control: 127.0.0.1:2000
 *   web:
 *     listen: 127.0.0.1:8470
 *     passwordHash: "scrypt$…"      # from `laplink web hash-password`
 *     record: { dir: /var/log/laplink/casts, maxBytes: 8388608 }
 */
import { z } from 'zod';
import { parseListenAddress, type HostPort } from '../listen/address.js';
import { CLIENT_CERT_POLICIES, tlsServerProblems } from '../tls/settings.js';
import { DEFAULT_STATE_DIR } from '../pppd/defaults.js';
import { parsePasswordHash } from './password.js';
import { DEFAULT_MAX_SOCKETS } from './limits.js';

const listen = z.union([z.string(), z.number()]).transform((v, ctx): HostPort => {
  try {
    return parseListenAddress(v);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `${(err as Error).message} (allowed: [HOST:]PORT, port 0-65535)` });
    return z.NEVER;
  }
});

export const webSection = z
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
    tls: z
      .object({ cert: z.string().min(1), key: z.string().min(1), ca: z.string().min(1).optional(), clientCert: z.enum(CLIENT_CERT_POLICIES).optional(), allow: z.array(z.string().min(1)).optional() })
      .strict()
      .superRefine((t, ctx) => {
        for (const p of tlsServerProblems(t)) ctx.addIssue({ code: 'custom', path: [p.field], message: p.message });
      })
      .optional(),
    maxSockets: z.number().int().min(1).max(100_000).default(DEFAULT_MAX_SOCKETS),
    record: z
      .object({ dir: z.string().min(1), maxBytes: z.number().int().min(4096).max(1 << 30).default(8 << 20), keep: z.number().int().min(1).max(1000).default(10) })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((w, ctx) => {
    const loopback = /^127\./.test(w.listen.host) || w.listen.host === '::1' || w.listen.host === 'localhost';
    if (!loopback && !w.passwordHash && !(w.tls?.ca || w.tls?.allow?.length))
      ctx.addIssue({ code: 'custom', path: ['listen'], message: `${w.listen.host} is not a loopback address: a console reachable from the network needs passwordHash or client certificates (allowed: a loopback host, or tls with ca/allow)` });
  });

export type WebSection = z.infer<typeof webSection>;

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
    password: w.passwordHash ? new PasswordCheck(w.passwordHash, 'web.passwordHash') : undefined,
    maxSockets: w.maxSockets,
    record: w.record,
    signal,
    log,
  });
  const a = server.address;
  log(`web: serving ${tls ? 'https' : 'http'}://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}/`);
}
