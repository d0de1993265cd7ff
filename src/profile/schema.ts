import { z } from 'zod';
import { checkExtraOption } from './pppd-options.js';
import { ipv6Link } from './ipv6.js';
import { windowsFieldRules } from './windows-rules.js';
import { AUTH_KINDS } from './auth-kinds.js';
import { TERMIOS_SPEEDS } from '../line/speeds.js';
import { FLOWS } from '../line/line.js';
import { queue } from './queue.js';
import { callerRules, callers, isAddressRange, listenAddress } from '../callers/schema.js';

/**
 * The one source of truth for a link profile: fields, defaults, documentation (`.describe`) and the
 * messages a user sees. `laplink init` renders its commented starter from these descriptions.
 *
 * Every string here ends up inside files that root's pppd or a shell reads, so the value types are
 * deliberately narrow: a "word" can never carry a space, a quote, a `#`, a backslash, a newline or a
 * leading `-` that would turn it into an option of its own.
 */

/** Speeds termios knows (Linux `Bxxx` constants). pppd refuses anything else. */
export { TERMIOS_SPEEDS };

const SAFE_WORD = /^[A-Za-z0-9_][A-Za-z0-9_.@%+=:,-]*$/;
/** Characters a secret may never contain: they would end a line or a word in pppd's reader. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const LINK_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;
/** The link name rule, for commands that take a NAME without a profile (it becomes a file name). */
export const LINK_NAME_PATTERN = LINK_NAME;
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const IFACE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;

/** A single token safe to place unquoted in a pppd options file or a shell word. */
export const safeWord = (what: string) =>
  z
    .string()
    .min(1, `${what} must not be empty`)
    .max(64, `${what} is longer than 64 characters`)
    .regex(
      SAFE_WORD,
      `${what} must be one word, no spaces, quotes, #, backslash or control characters (allowed: letters, digits and _ . @ % + = : , -, not starting with - or .)`,
    );

export const ipv4 = z.string().regex(IPV4, 'not a dotted IPv4 address (allowed: e.g. 192.168.7.1)');
export const hostName = z.string().regex(HOST_NAME, 'not a host name (allowed: letters, digits, - and ., such as ppp-laplink-server)');
export const ipOrHost = z
  .string()
  // All digits and dots is meant as an address, so it must be a valid one (300.1.1.1 is no host name).
  .refine((s) => IPV4.test(s) || (HOST_NAME.test(s) && !/^[\d.]+$/.test(s)), 'not an IPv4 address or host name (allowed: e.g. 192.168.7.1 or a name from /etc/hosts)');

/** Absolute /dev path without `..`, spaces or anything a shell or pppd would read specially. */
export const devicePath = z
  .string()
  .max(128, 'too long (allowed: at most 128 characters)')
  // Every path segment starts with a letter, digit or _, so `..` (or any dot-file) cannot appear.
  .regex(/^\/dev\/[A-Za-z0-9_][A-Za-z0-9_.+-]*(?:\/[A-Za-z0-9_][A-Za-z0-9_.+-]*)*$/, 'not a plain device path, no "..", spaces or quotes (allowed: an absolute path under /dev of letters, digits and _ . + -, such as /dev/ttyS0)');

/** An absolute file path with no `..` and only ordinary file-name characters. */
export const filePath = z
  .string()
  .max(255, 'too long (allowed: at most 255 characters)')
  .regex(/^\/[A-Za-z0-9_][A-Za-z0-9_.+-]*(?:\/[A-Za-z0-9_][A-Za-z0-9_.+-]*)*$/, 'not a plain absolute path, no "..", spaces or quotes (allowed: /dir/file of letters, digits and _ . + -)');

export const hostPort = z
  .string()
  .regex(/^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\]):\d{1,5}$/, 'not HOST:PORT (allowed: e.g. 127.0.0.1:3000)')
  .refine((s) => {
    const port = Number(s.slice(s.lastIndexOf(':') + 1));
    return port >= 1 && port <= 65535;
  }, 'port out of range (allowed: 1..65535)');

export const speed = z
  .number()
  .int()
  .refine((n) => (TERMIOS_SPEEDS as readonly number[]).includes(n), {
    message: `not a termios speed (allowed: ${TERMIOS_SPEEDS.join(', ')})`,
  });

/**
 * A PAP/CHAP secret. Spaces, quotes and backslashes are fine (the secrets writer quotes them so
 * pppd's getword() reads back exactly this text); control characters are not, and a leading `@`
 * would make pppd read the secret from a file of that name.
 */
export const secretText = (what: string) =>
  z
    .string()
    .min(1, `${what} must not be empty (allowed: 1..128 printable characters)`)
    .max(128, `${what} is too long (allowed: at most 128 characters)`)
    .refine((s) => !CONTROL.test(s), `${what} contains a control character such as a newline, tab or NUL (allowed: printable characters)`)
    .refine((s) => !s.startsWith('@'), `${what} must not start with @: pppd would read a file of that name (allowed: use auth.passwordFile)`);

export const serverUser = z
  .object({
    name: z.union([z.literal('*'), safeWord('user name')], { error: 'user name must be * or one word (allowed: letters, digits and _ . @ % + = : , -, not starting with -)' }).describe('PAP/CHAP user name the client sends (pppd `user`), or * for anyone'),
    password: secretText('password').optional().describe('secret for this user; omit with login: true to use the system password'),
    ips: z.array(ipOrHost).max(16).optional().describe('addresses this user may take (last column of pap-secrets)'),
  })
  .strict();

export const auth = z
  .object({
    require: z.enum([...AUTH_KINDS, 'none']).default('pap').describe('server: authentication the client must pass (pap, chap, mschap, mschap-v2 or none); client: what the server asks for (any CHAP kind writes chap-secrets)'),
    login: z.boolean().default(false).describe('server: also check PAP users against the system password file (pppd `login`)'),
    users: z.array(serverUser).max(64).default([]).describe('server: who may connect'),
    user: safeWord('auth.user').optional().describe('client: the name sent to the server (pppd `user`)'),
    password: secretText('auth.password').optional().describe('client: the secret; never printed or logged'),
    passwordFile: filePath.optional().describe('client: read the secret from this file instead'),
    accept: z.array(z.enum(AUTH_KINDS, { error: `not an authentication kind (allowed: ${AUTH_KINDS.join(', ')})` })).min(1, 'must name at least one kind (allowed: pap, chap, mschap, mschap-v2)').max(4).optional().describe('client: the kinds we agree to authenticate with; pppd refuses the others (a Windows RAS server may insist on mschap-v2)'),
  })
  .strict();

/**
 * `gateway:` makes the server the peer's ISP: masquerading, forwarding, DNS handed out over IPCP and
 * proxy ARP. DNS addresses go into pppd's `ms-dns`, which takes IPv4 only.
 */
export const gateway = z
  .object({
    uplink: z.string().regex(IFACE, 'not a network interface name (allowed: default, or up to 15 of letters, digits and _ . -, such as eth0)').default('default').describe('interface that reaches the internet, or default: whichever the routing table picks'),
    dns: z
      .union([z.enum(['host', 'none']), z.array(ipv4).min(1).max(2)], { error: 'not a DNS setting (allowed: host, none, or a list of one or two IPv4 addresses)' })
      .default('host')
      .describe("DNS servers for the peer (pppd ms-dns): host = this machine's resolvers from /etc/resolv.conf at generate time (a local stub such as 127.0.0.53 is replaced by its upstream), none, or [addresses]"),
    proxyArp: z.boolean().default(false).describe('answer ARP on the LAN for the peer (pppd proxyarp), for a remoteIp inside the LAN\'s subnet'),
  })
  .strict();

export const masquerade = z
  .object({
    outInterface: z.string().regex(IFACE, 'not a network interface name (allowed: up to 15 of letters, digits and _ . -, such as eth0)').describe('interface that reaches the internet'),
  })
  .strict();

export const lcpEcho = z
  .object({
    interval: z.number().int().min(1).max(3600).default(10).describe('seconds between LCP echo requests'),
    failures: z.number().int().min(1).max(100).default(3).describe('unanswered echoes before pppd declares the cable cut (exit 16)'),
  })
  .strict();

export const handshake = z
  .object({
    engine: z.enum(['laplink', 'chat']).default('laplink').describe('who runs the CLIENT/CLIENTSERVER exchange: our engine or real chat(8)'),
    timeout: z.number().int().min(1).max(3600).default(45).describe('seconds to wait for the peer'),
  })
  .strict();

/** How the emulated modem answers a dialing peer (`peer: dialup`, see `laplink modem answer`). */
export const modem = z
  .object({
    connectSpeed: z.number().int().min(300).max(4_000_000).optional().describe('speed the modem reports in CONNECT (default: speed)'),
    ring: z.boolean().default(false).describe('ring the peer (RING until it answers with ATA or S0), for a peer that waits for calls'),
  })
  .strict();

/** Rules that involve more than one field, each reported at the field the user must change. */
function crossFieldRules(p: ProfileShape, ctx: z.RefinementCtx): void {
  const bad = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  if (p.device && p.bridge) bad(['bridge'], 'give either device or bridge, not both (allowed: one of them)');
  if (!p.device && !p.bridge && !p.listen) bad([], 'the line is missing (allowed: device: /dev/ttyS0, bridge: HOST:PORT or listen: [HOST:]PORT)');
  callerRules(p, bad);
  // Over TCP pppd talks to a pseudo-terminal: RTS/CTS and modem lines are set at the bridge's port.
  if (p.bridge && p.flow === 'rtscts') bad(['flow'], 'no RTS/CTS lines reach pppd through a bridge (allowed with bridge: none or xonxoff; set hardware flow at the bridge)');
  if (p.bridge && p.modemLines) bad(['modemLines'], 'no modem lines reach pppd through a bridge (allowed with bridge: false)');
  if (p.bridgeTls && !p.bridge) bad(['bridgeTls'], 'TLS is for a bridge: line (allowed: with bridge: HOST:PORT)');
  if (p.bridgeTls && !p.bridgeTls.ca && !p.bridgeTls.pin) bad(['bridgeTls'], "nothing to check the port's certificate against (allowed: ca: FILE, pin: [sha256:…], or both)");
  if (p.bridgeTls && !p.bridgeTls.cert !== !p.bridgeTls.key) bad(['bridgeTls', p.bridgeTls.cert ? 'key' : 'cert'], 'a client certificate needs its key and a key its certificate (allowed: both or neither)');
  if (p.localIp === p.remoteIp) bad(['remoteIp'], 'must differ from localIp (allowed: the other end of the link)');
  windowsFieldRules(p, bad);
  if (p.masquerade && !IPV4.test(p.remoteIp) && !isAddressRange(p.remoteIp)) bad(['remoteIp'], 'masquerade needs the peer as an address, not a name (allowed: e.g. 192.168.7.2)');
  if (p.hostnames?.local && !IPV4.test(p.localIp)) bad(['hostnames', 'local'], 'names localIp in /etc/hosts, so localIp must be an address (allowed: localIp like 192.168.7.1)');
  if (p.hostnames?.remote && !IPV4.test(p.remoteIp)) bad(['hostnames', 'remote'], 'names remoteIp in /etc/hosts, so remoteIp must be an address (allowed: remoteIp like 192.168.7.2)');
  if (p.modem && p.peer !== 'dialup') bad(['modem'], 'only a dialing peer talks to a modem (allowed with peer: dialup)');
  if (p.peer === 'dialup' && p.role !== 'server') bad(['peer'], 'a dialing peer calls the server: ppp-laplink answers as its modem (allowed with role: server)');
  const a = p.auth;
  if (p.role === 'server') {
    if (a.user !== undefined) bad(['auth', 'user'], 'is a client field (allowed on a server: require, login, users)');
    if (a.password !== undefined) bad(['auth', 'password'], 'is a client field (allowed on a server: users[].password)');
    if (a.passwordFile !== undefined) bad(['auth', 'passwordFile'], 'is a client field (allowed on a server: users[].password)');
    if (a.require !== 'none' && a.users.length === 0) bad(['auth', 'users'], `a server requiring ${a.require} needs at least one user (allowed: a list of {name, password, ips}, or require: none)`);
    if (a.require === 'none' && a.users.length > 0) bad(['auth', 'users'], 'users are not checked when require is none (allowed: require: pap or chap)');
    if (a.require === 'none' && a.login) bad(['auth', 'login'], 'login needs authentication (allowed: require: pap)');
    if (a.require !== 'pap' && a.require !== 'none' && a.login) bad(['auth', 'login'], 'pppd checks the system password file only for PAP (allowed: require: pap with login)');
    a.users.forEach((u, i) => {
      if (u.password === undefined && !a.login) bad(['auth', 'users', i, 'password'], 'required unless auth.login is true (allowed: a secret, or login: true for system passwords)');
    });
    if (p.defaultRoute) bad(['defaultRoute'], 'only a client routes over the link (allowed on a server: masquerade)');
  } else {
    if (a.users.length > 0) bad(['auth', 'users'], 'is a server field (allowed on a client: user, password, passwordFile)');
    if (a.login) bad(['auth', 'login'], 'is a server field (allowed on a client: user, password, passwordFile)');
    if (a.password !== undefined && a.passwordFile !== undefined) bad(['auth', 'passwordFile'], 'give password or passwordFile, not both');
    if ((a.password !== undefined || a.passwordFile !== undefined) && a.user === undefined) bad(['auth', 'user'], 'required with a password (allowed: the name the server knows you by)');
    if (a.user !== undefined && a.password === undefined && a.passwordFile === undefined) bad(['auth', 'password'], 'auth.user needs password or passwordFile (allowed: one of them)');
    if (p.masquerade) bad(['masquerade'], 'only a server shares its internet (allowed on a client: defaultRoute)');
  }
}

type ProfileShape = z.infer<typeof profileObject>;

export const profileObject = z
  .object({
    name: z.string().regex(LINK_NAME, 'not a link name (allowed: 1-32 of a-z 0-9 _ -, starting with a letter or digit)').describe('link name: peers file, unit and state file are named after it'),
    role: z.enum(['server', 'client']).describe('server waits on the line and assigns addresses; client calls it'),
    peer: z.enum(['linux', 'windows', 'dialup']).default('linux').describe('windows adds the Direct Cable Connection CLIENT/CLIENTSERVER handshake; dialup answers the peer\'s dialer as a Hayes modem'),
    device: devicePath.optional().describe('serial device of the cable'),
    bridge: hostPort.optional().describe('or: the line is carried over TCP from this HOST:PORT (laplink bridge)'),
    listen: listenAddress.optional().describe('or: callers dial in over TCP on [HOST:]PORT, each its own pppd and address (role server; remoteIp a range)'),
    callers: callers.optional().describe('listen: how callers are answered and limited'),
    bridgeTls: z
      .object({
        ca: filePath.optional().describe("CA certificates that sign the bridge port's certificate"),
        pin: z.array(z.string().regex(/^sha256:[0-9a-f]{64}$/, 'not a fingerprint (allowed: sha256: and 64 lowercase hex digits, as laplink bridge keygen prints it)')).min(1).optional().describe("the port's public-key fingerprints accepted (a self-signed certificate is then fine)"),
        serverName: hostName.optional().describe("name the port's certificate must carry (default: the bridge host)"),
        cert: filePath.optional().describe('our client certificate, for a port that requires one'),
        key: filePath.optional().describe('its private key'),
      })
      .strict()
      .optional()
      .describe('TLS to the bridge: port (laplink bridge stdio --tls-*): a ca, a pin, or both'),
    speed: speed.default(115200).describe('line speed in bit/s'),
    // none: a 3-wire null-modem has no RTS/CTS, and a bridge: line cannot carry them (issue 14).
    flow: z.enum(FLOWS).default('none').describe('flow control: none suits a 3-wire null-modem and a bridge: line; rtscts needs a full 7-wire cable'),
    modemLines: z.boolean().default(false).describe('false: ignore modem control lines (pppd `local`), right for a 3-wire null-modem'),
    localIp: ipOrHost.describe('this end of the link'),
    remoteIp: ipOrHost.describe('the other end (with listen: a range FIRST-LAST, one address per caller)'),
    hostnames: z
      .object({ local: hostName.optional().describe('host name for localIp'), remote: hostName.optional().describe('host name for remoteIp') })
      .strict()
      .optional()
      .describe('names for localIp/remoteIp written to /etc/hosts'),
    auth: auth.default({ require: 'pap', login: false, users: [] }).describe('authentication'),
    handshake: handshake.default({ engine: 'laplink', timeout: 45 }).describe('Windows DCC handshake settings'),
    modem: modem.optional().describe('peer: dialup: how the emulated modem answers'),
    defaultRoute: z.boolean().default(false).describe('client: route everything over the link'),
    masquerade: masquerade.optional().describe('server: old spelling of gateway: { uplink: IFACE, dns: none }'),
    gateway: gateway.optional().describe('server: be the peer\'s ISP (masquerading, forwarding, DNS, proxy ARP)'),
    usePeerDns: z.boolean().default(false).describe('client: use the DNS servers the peer hands out (pppd usepeerdns)'),
    encrypt: z.enum(['none', 'mppe', 'mppe-40', 'mppe-128'], { error: 'not an encryption setting (allowed: none, mppe, mppe-40, mppe-128; pppd 2.4.9 MPPE is always required once asked for)' }).default('none').describe('MPPE encryption, required by both ends once set (needs MS-CHAP): none, mppe (40 or 128 bit), mppe-40, mppe-128'),
    ipv6: ipv6Link.optional().describe('IPv6 over the link too (IPV6CP, +ipv6): { localId: ::1, remoteId: ::2, prefix: fd00:7::/64 }'),
    mtu: z.number().int().min(128).max(16384).optional().describe('MTU and MRU'),
    idle: z.number().int().min(1).max(86400).optional().describe('hang up after this many idle seconds'),
    persist: z.boolean().default(false).describe('client: keep calling (supervisor respawns)'),
    lcpEcho: lcpEcho.default({ interval: 10, failures: 3 }).describe('detect a cut cable through LCP echo'),
    compression: z.enum(['deflate', 'none']).default('deflate').describe('deflate: text crosses a 115200 cable 2.7x faster, random data as fast as none (kernel module ppp_deflate); none: pppd noccp'),
    queue,
    vjCompression: z.boolean().default(true).describe('Van Jacobson TCP/IP header compression (false: pppd novj)'),
    systemd: z.boolean().default(true).describe('write a systemd unit running the supervisor'),
    inittab: z.boolean().default(false).describe('also print the classic inittab respawn line'),
    globalOptions: z.boolean().default(false).describe('also write a managed block into /etc/ppp/options'),
    extraOptions: z
      .array(
        z.string().superRefine((s, ctx) => {
          const problem = checkExtraOption(s);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        }),
      )
      .max(64)
      .default([]).describe('more pppd options, from a known list only'),
  })
  .strict();

export const profileSchema = profileObject.superRefine(crossFieldRules);

export type Profile = z.infer<typeof profileSchema>;
export type ProfileInput = z.input<typeof profileSchema>;
