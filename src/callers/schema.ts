/**
 * The profile fields of a dial-in server over TCP (`listen:` in place of `device:`): the caller
 * settings block and the rules tying it to the rest of the profile. schema.ts only wires them in.
 */
import { z } from 'zod';
import { CLIENT_CERT_POLICIES } from '../bridge/port-options.js';
import { tlsServerProblems } from '../tls/settings.js';
import { MAX_POOL, parsePool } from './pool.js';

/** What callers say before PPP (handshake.ts answers each). */
export const CALLER_PROTOCOLS = ['ppp', 'modem', 'dcc'] as const;
export type CallerProtocol = (typeof CALLER_PROTOCOLS)[number];

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const FILE = /^\/[A-Za-z0-9_][A-Za-z0-9_.+-]*(?:\/[A-Za-z0-9_][A-Za-z0-9_.+-]*)*$/;
const FILE_MESSAGE = 'not a plain absolute path, no "..", spaces or quotes (allowed: /dir/file of letters, digits and _ . + -)';
const RANGE = /^([\d.]+)-([\d.]+)$/;

/** `192.168.7.10-192.168.7.40`: the peer addresses of a `listen:` server, one per caller. */
export const isAddressRange = (s: string): boolean => {
  const m = RANGE.exec(s);
  return !!m && IPV4.test(m[1]!) && IPV4.test(m[2]!);
};

/** `[HOST:]PORT` for the listener, as the bridge writes it (checked again by listen/address.ts). */
export const listenAddress = z
  .union([z.number().int(), z.string().regex(/^(?:\[[0-9A-Fa-f:]+\]|[A-Za-z0-9.-]*):\d{1,5}$|^\d{1,5}$/, 'not [HOST:]PORT (allowed: e.g. 0.0.0.0:2323 or 2323)')])
  .transform(String)
  .refine((s) => Number(s.slice(s.lastIndexOf(':') + 1)) <= 65535, 'port out of range (allowed: 0..65535)');

export const callers = z
  .object({
    max: z.number().int().min(1).max(MAX_POOL).default(8).describe('callers at once; the next one hears BUSY (modem) or is closed'),
    protocol: z.enum(CALLER_PROTOCOLS).default('modem').describe('what callers say before PPP: modem (Hayes ATDT, answered with CONNECT), dcc (Windows CLIENT/CLIENTSERVER) or ppp (straight away)'),
    telnet: z.boolean().default(false).describe('callers speak telnet (DOSBox telnet:1, WiFi modems): BINARY negotiated, IAC doubled, NUL after CR dropped'),
    idleTimeout: z.number().int().min(1).max(3600).default(60).describe('seconds a caller may stay silent before PPP starts, and then to send its first PPP frame'),
    handshakeBytes: z.number().int().min(64).max(1_048_576).default(4096).describe('bytes a caller may send before its handshake completes'),
    perAddress: z.number().int().min(1).max(MAX_POOL).default(2).describe('callers at once from one IP address'),
    burst: z.number().int().min(1).max(1000).default(5).describe('connections one address may open in a row …'),
    refillSeconds: z.number().min(0.01).max(3600).default(10).describe('… then one more every this many seconds'),
    allow: z.array(z.string().regex(/^[0-9A-Fa-f.:]+(?:\/\d{1,3})?$/, 'not an IP address or CIDR block (allowed: e.g. 192.168.1.0/24)')).max(256).optional().describe('only these addresses or CIDR blocks may call'),
    tls: z
      .object({
        cert: z.string().regex(FILE, FILE_MESSAGE).describe('our certificate (PEM)'),
        key: z.string().regex(FILE, FILE_MESSAGE).describe('its private key; readable by root only'),
        ca: z.string().regex(FILE, FILE_MESSAGE).optional().describe('CAs that sign acceptable caller certificates'),
        clientCert: z.enum(CLIENT_CERT_POLICIES).optional().describe('required | optional | none (default: required with ca or allow)'),
        allow: z.array(z.string().min(1).max(200)).max(64).optional().describe('caller certificates accepted: sha256:FINGERPRINT or CN=NAME'),
      })
      .strict()
      .optional()
      .describe('callers connect with TLS (a stunnel or socat OPENSSL: in front of the emulator)'),
    ipv6FirstId: z.number().int().min(1).max(0xffff - MAX_POOL).optional().describe('with ipv6: the first caller\'s interface identifier (::N), the next ::N+1 …'),
  })
  .strict();

export type CallersSettings = z.infer<typeof callers>;

interface Shape {
  role: string;
  listen?: string | undefined;
  device?: string | undefined;
  bridge?: string | undefined;
  peer: string;
  remoteIp: string;
  callers?: CallersSettings | undefined;
}

/** Rules of a `listen:` profile, reported at the field to change. */
export function callerRules(p: Shape, bad: (path: PropertyKey[], message: string) => void): void {
  const range = isAddressRange(p.remoteIp);
  if (!p.listen) {
    if (p.callers) bad(['callers'], 'is for a listen: server (allowed with listen: [HOST:]PORT)');
    if (range) bad(['remoteIp'], 'an address range is for a listen: server (allowed here: one address)');
    return;
  }
  if (p.device || p.bridge) bad(['listen'], 'give one line: device, bridge or listen (allowed: one of them)');
  if (p.role !== 'server') bad(['listen'], 'callers dial a server (allowed with role: server)');
  if (p.peer !== 'linux') bad(['peer'], 'with listen:, callers.protocol says what callers speak (allowed: peer: linux, the default)');
  let size = 1;
  if (range) {
    try {
      size = parsePool(p.remoteIp, 'remoteIp').size;
    } catch (err) {
      return bad(['remoteIp'], (err as Error).message.replace(/^remoteIp: /, ''));
    }
  } else if (!IPV4.test(p.remoteIp)) return bad(['remoteIp'], 'a listen: server hands out addresses (allowed: FIRST-LAST such as 192.168.7.10-192.168.7.40)');
  if (p.callers?.tls) for (const t of tlsServerProblems(p.callers.tls)) bad(['callers', 'tls', t.field], t.message);
  const max = p.callers?.max ?? 8;
  if (max > size) bad(['callers', 'max'], `${max} callers need ${max} addresses, remoteIp has ${size} (allowed: at most ${size}, or a longer range)`);
}
