import { z } from 'zod';

/**
 * The one source of truth for a link profile: fields, defaults, documentation (`.describe`) and the
 * messages a user sees. `laplink init` renders its commented starter from these descriptions.
 *
 * Every string here ends up inside files that root's pppd or a shell reads, so the value types are
 * deliberately narrow: a "word" can never carry a space, a quote, a `#`, a backslash, a newline or a
 * leading `-` that would turn it into an option of its own.
 */

/** Speeds termios knows (Linux `Bxxx` constants). pppd refuses anything else. */
export const TERMIOS_SPEEDS = [
  50, 75, 110, 134, 150, 200, 300, 600, 1200, 1800, 2400, 4800, 9600, 19200, 38400, 57600, 115200,
  230400, 460800, 500000, 576000, 921600, 1000000, 1152000, 1500000, 2000000, 2500000, 3000000,
  3500000, 4000000,
] as const;

const SAFE_WORD = /^[A-Za-z0-9_][A-Za-z0-9_.@%+=:,-]*$/;
const LINK_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;
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
      `${what} must be one word of letters, digits and _ . @ % + = : , - (not starting with -); no spaces, quotes, #, backslash or control characters`,
    );

export const ipv4 = z.string().regex(IPV4, 'must be a dotted IPv4 address such as 192.168.7.1');
export const hostName = z.string().regex(HOST_NAME, 'must be a host name of letters, digits, - and .');
export const ipOrHost = z
  .string()
  .refine((s) => IPV4.test(s) || HOST_NAME.test(s), 'must be an IPv4 address (192.168.7.1) or a host name from /etc/hosts');

/** Absolute /dev path without `..`, spaces or anything a shell or pppd would read specially. */
export const devicePath = z
  .string()
  .regex(/^\/dev\/[A-Za-z0-9_][A-Za-z0-9_.+-]*(?:\/[A-Za-z0-9_][A-Za-z0-9_.+-]*)*$/, 'must be an absolute device path under /dev, such as /dev/ttyS0')
  .refine((s) => !s.split('/').includes('..'), 'must not contain ".."');

/** An absolute file path with no `..` and only ordinary file-name characters. */
export const filePath = z
  .string()
  .regex(/^\/[A-Za-z0-9_][A-Za-z0-9_.+-]*(?:\/[A-Za-z0-9_][A-Za-z0-9_.+-]*)*$/, 'must be an absolute path of ordinary file-name characters')
  .refine((s) => !s.split('/').includes('..'), 'must not contain ".."');

export const hostPort = z
  .string()
  .regex(/^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\]):\d{1,5}$/, 'must be HOST:PORT, such as 127.0.0.1:3000')
  .refine((s) => {
    const port = Number(s.slice(s.lastIndexOf(':') + 1));
    return port >= 1 && port <= 65535;
  }, 'port must be 1..65535');

export const speed = z
  .number()
  .int()
  .refine((n) => (TERMIOS_SPEEDS as readonly number[]).includes(n), {
    message: `must be a termios speed: ${TERMIOS_SPEEDS.join(', ')}`,
  });

export const serverUser = z
  .object({
    name: safeWord('user name').describe('PAP/CHAP user name the client sends (pppd `user`), or * for anyone'),
    password: z.string().optional().describe('secret for this user; omit with login: true to use the system password'),
    ips: z.array(ipOrHost).optional().describe('addresses this user may take (last column of pap-secrets)'),
  })
  .strict();

export const auth = z
  .object({
    require: z.enum(['pap', 'chap', 'none']).default('pap').describe('server: authentication the client must pass'),
    login: z.boolean().default(false).describe('server: also check PAP users against the system password file (pppd `login`)'),
    users: z.array(serverUser).default([]).describe('server: who may connect'),
    user: safeWord('auth.user').optional().describe('client: the name sent to the server (pppd `user`)'),
    password: z.string().optional().describe('client: the secret; never printed or logged'),
    passwordFile: filePath.optional().describe('client: read the secret from this file instead'),
  })
  .strict();

export const masquerade = z
  .object({
    outInterface: z.string().regex(IFACE, 'must be a network interface name such as eth0').describe('interface that reaches the internet'),
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

export const profileSchema = z
  .object({
    name: z.string().regex(LINK_NAME, 'must be 1-32 of a-z 0-9 _ - starting with a letter or digit').describe('link name: peers file, unit and state file are named after it'),
    role: z.enum(['server', 'client']).describe('server waits on the line and assigns addresses; client calls it'),
    peer: z.enum(['linux', 'windows']).default('linux').describe('windows adds the Direct Cable Connection CLIENT/CLIENTSERVER handshake'),
    device: devicePath.optional().describe('serial device of the cable'),
    bridge: hostPort.optional().describe('or: the line is carried over TCP from this HOST:PORT (laplink bridge)'),
    speed: speed.default(115200).describe('line speed in bit/s'),
    flow: z.enum(['rtscts', 'xonxoff', 'none']).default('rtscts').describe('flow control'),
    modemLines: z.boolean().default(false).describe('false: ignore modem control lines (pppd `local`), right for a 3-wire null-modem'),
    localIp: ipOrHost.describe('this end of the link'),
    remoteIp: ipOrHost.describe('the other end'),
    hostnames: z
      .object({ local: hostName.optional(), remote: hostName.optional() })
      .strict()
      .optional()
      .describe('names for localIp/remoteIp written to /etc/hosts'),
    auth: auth.default({ require: 'pap', login: false, users: [] }).describe('authentication'),
    handshake: handshake.default({ engine: 'laplink', timeout: 45 }).describe('Windows DCC handshake settings'),
    defaultRoute: z.boolean().default(false).describe('client: route everything over the link'),
    masquerade: masquerade.optional().describe('server: give the client internet through this interface'),
    mtu: z.number().int().min(128).max(16384).optional().describe('MTU and MRU'),
    idle: z.number().int().min(1).max(86400).optional().describe('hang up after this many idle seconds'),
    persist: z.boolean().default(false).describe('client: keep calling (supervisor respawns)'),
    lcpEcho: lcpEcho.optional().describe('detect a cut cable through LCP echo'),
    systemd: z.boolean().default(true).describe('write a systemd unit running the supervisor'),
    inittab: z.boolean().default(false).describe('also print the classic inittab respawn line'),
    globalOptions: z.boolean().default(false).describe('also write a managed block into /etc/ppp/options'),
    extraOptions: z.array(z.string()).default([]).describe('more pppd options, from a known list only'),
  })
  .strict();

export type Profile = z.infer<typeof profileSchema>;
export type ProfileInput = z.input<typeof profileSchema>;
