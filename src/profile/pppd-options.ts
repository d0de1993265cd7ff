/**
 * The pppd options a profile may add through `extraOptions`. Anything that runs a program
 * (connect, pty, init, disconnect, welcome, socket), loads code (plugin), reads another file
 * (file, call) or changes who we are (name, user, password, privileged state) is out: a profile
 * must never be a way to make root's pppd execute something.
 */

type ArgKind =
  | { kind: 'none' }
  | { kind: 'int'; min: number; max: number }
  | { kind: 'hex32' }
  | { kind: 'ipv4' };

const none = { kind: 'none' } as const;
const int = (min: number, max: number) => ({ kind: 'int', min, max }) as const;

export const EXTRA_OPTIONS: Record<string, ArgKind> = {
  // negotiation switches
  'noipdefault': none,
  'ipcp-accept-local': none,
  'ipcp-accept-remote': none,
  'proxyarp': none,
  'noproxyarp': none,
  'novj': none,
  'novjccomp': none,
  'nobsdcomp': none,
  'nodeflate': none,
  'nopcomp': none,
  'noaccomp': none,
  'nomagic': none,
  'passive': none,
  'silent': none,
  'usepeerdns': none,
  'nodefaultroute': none,
  'noipv6': none,
  '+ipv6': none,
  'ktune': none,
  'noktune': none,
  'receive-all': none,
  'default-asyncmap': none,
  'debug': none,
  'nolog': none,
  // timers and counters
  'lcp-restart': int(1, 3600),
  'lcp-max-configure': int(1, 1000),
  'lcp-max-failure': int(1, 1000),
  'lcp-max-terminate': int(1, 1000),
  'ipcp-restart': int(1, 3600),
  'ipcp-max-configure': int(1, 1000),
  'ipcp-max-failure': int(1, 1000),
  'ipcp-max-terminate': int(1, 1000),
  'pap-restart': int(1, 3600),
  'pap-max-authreq': int(1, 1000),
  'pap-timeout': int(0, 3600),
  'chap-restart': int(1, 3600),
  'chap-max-challenge': int(1, 1000),
  'chap-interval': int(0, 86400),
  'connect-delay': int(0, 600000),
  'maxconnect': int(1, 86400 * 365),
  'kdebug': int(0, 7),
  'asyncmap': { kind: 'hex32' },
  'ms-dns': { kind: 'ipv4' },
  'ms-wins': { kind: 'ipv4' },
  'netmask': { kind: 'ipv4' },
};

/** Options refused by name with the reason, so the message says why rather than "unknown". */
const REFUSED: Record<string, string> = {
  connect: 'runs a program (the handshake is configured by peer/handshake)',
  disconnect: 'runs a program',
  init: 'runs a program',
  welcome: 'runs a program',
  pty: 'runs a program (use bridge: HOST:PORT)',
  socket: 'opens a network socket',
  plugin: 'loads code into pppd',
  file: 'reads another options file',
  call: 'reads another options file',
  user: 'set auth.user instead',
  password: 'secrets belong in auth, written to the secrets file',
  name: 'changes the local name',
  nodetach: 'the supervisor adds it',
  persist: 'the supervisor respawns pppd',
  updetach: 'the supervisor needs pppd in the foreground',
  logfile: 'writes a file as root',
  ipparam: 'is passed to ip-up scripts',
  noauth: 'set auth.require instead',
  defaultroute: 'set defaultRoute instead',
  crtscts: 'set flow instead',
  nocrtscts: 'set flow instead',
  xonxoff: 'set flow instead',
  local: 'set modemLines instead',
  modem: 'set modemLines instead',
  mtu: 'set mtu instead',
  mru: 'set mtu instead',
  idle: 'set idle instead',
  linkname: 'the link name comes from name',
  // Measured in the lab (pppd 2.4.9, Linux 6.1): both ends negotiate it, then log "Lost compression
  // sync" on the first compressed frame and drop compression, every time.
  bsdcomp: 'breaks the link\'s compression: it loses sync on the first compressed frame (set compression: deflate or none)',
  'bsd-comp': 'breaks the link\'s compression: it loses sync on the first compressed frame (set compression: deflate or none)',
  deflate: 'set compression instead',
  noccp: 'set compression: none instead (CCP is on only for deflate or the MPPE of encrypt)',
  // authentication and encryption have fields of their own (auth.require, auth.accept, encrypt)
  auth: 'set auth.require instead',
  'require-pap': 'set auth.require instead',
  'require-chap': 'set auth.require instead',
  'require-mschap': 'set auth.require instead',
  'require-mschap-v2': 'set auth.require instead',
  'require-eap': 'set auth.require instead',
  'refuse-pap': 'set auth.accept instead',
  'refuse-chap': 'set auth.accept instead',
  'refuse-mschap': 'set auth.accept instead',
  'refuse-mschap-v2': 'set auth.accept instead',
  'refuse-eap': 'set auth.accept instead',
  'require-mppe': 'set encrypt instead',
  'require-mppe-40': 'set encrypt instead',
  'require-mppe-128': 'set encrypt instead',
  nomppe: 'set encrypt instead',
  'nomppe-40': 'set encrypt instead',
  'nomppe-128': 'set encrypt instead',
  'mppe-stateful': 'set encrypt instead',
  'nomppe-stateful': 'set encrypt instead',
};

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** Validates one `extraOptions` entry ("option" or "option argument"); returns a message or null. */
export function checkExtraOption(entry: string): string | null {
  const allowed = `allowed: ${Object.keys(EXTRA_OPTIONS).join(', ')}`;
  // Name the refused option even when the rest is malformed: that is the more useful message.
  const first = entry.trimStart().split(/[\s#"'\\]/, 1)[0] ?? '';
  const refused = REFUSED[first];
  if (refused) {
    const managed = /^(set|the|secrets)/.test(refused);
    return `option "${first}" is not allowed: it ${managed ? `is managed by laplink (${refused})` : refused}`;
  }
  if (!/^[\x21-\x7e]+(?: [\x21-\x7e]+)?$/.test(entry)) {
    return `must be "option" or "option argument" separated by one space, printable ASCII only (${allowed})`;
  }
  const [name, arg] = entry.split(' ') as [string, string | undefined];
  const spec = EXTRA_OPTIONS[name];
  if (!spec) return `unknown or unsupported pppd option (${allowed})`;
  switch (spec.kind) {
    case 'none':
      return arg === undefined ? null : `option "${name}" takes no argument`;
    case 'int': {
      if (arg === undefined || !/^\d{1,10}$/.test(arg)) return `option "${name}" needs a whole number (allowed: ${spec.min}..${spec.max})`;
      const n = Number(arg);
      return n >= spec.min && n <= spec.max ? null : `option "${name}" argument out of range (allowed: ${spec.min}..${spec.max})`;
    }
    case 'hex32':
      return arg !== undefined && /^(?:0x)?[0-9a-fA-F]{1,8}$/.test(arg) ? null : `option "${name}" needs a 32-bit hex map (allowed: e.g. 0 or 0x000a0000)`;
    case 'ipv4':
      return arg !== undefined && IPV4.test(arg) ? null : `option "${name}" needs an IPv4 address (allowed: e.g. 192.168.7.1)`;
  }
}
