/**
 * pppd's log lines → typed events. The patterns are the messages of pppd 2.4.9 (main.c, auth.c,
 * ipcp.c, lcp.c, fsm.c, tty.c, upap.c, session.c, utils.c, sys-linux.c) as printed with `nodetach`:
 * one message per line, no syslog prefix. Lines we do not know are passed on as `other` so nothing
 * is lost in the supervisor's log.
 */

import ipaddr from 'ipaddr.js';

export type PppdEvent =
  | { type: 'serial-connected' } // tty.c: connect script succeeded
  | { type: 'connect-script-failed' }
  | { type: 'interface'; iface: string } // main.c set_ifunit
  | { type: 'connect'; iface: string; device: string } // auth.c start_link: LCP begins
  | { type: 'peer-authenticated'; user: string } // upap.c: peer passed PAP
  | { type: 'user-login'; user: string } // session.c with `login`
  | { type: 'peer-auth-failed'; user: string }
  | { type: 'auth-failed' } // we failed to authenticate to the peer
  | { type: 'remote-message'; text: string }
  | { type: 'local-ip'; ip: string }
  | { type: 'remote-ip'; ip: string }
  | { type: 'local-ip6'; ip: string } // ipv6cp.c ipv6cp_up: link-local fe80::ID
  | { type: 'remote-ip6'; ip: string }
  | { type: 'terminated-by-peer'; protocol: string; reason?: string }
  | { type: 'echo-timeout'; count: number }
  | { type: 'link-disconnected' }
  | { type: 'modem-hangup' }
  | { type: 'connection-terminated' }
  | { type: 'connect-time'; minutes: number }
  | { type: 'traffic'; sent: number; received: number }
  | { type: 'terminating'; signal: number }
  | { type: 'device-locked'; device: string; pid: number }
  | { type: 'open-failed'; device: string; error: string }
  | { type: 'loopback' }
  | { type: 'idle-timeout' }
  | { type: 'no-kernel-support'; text: string }
  | { type: 'auth-method'; method: string } // debug: the LCP ConfAck that settled <auth …>
  | { type: 'chap-peer-name'; user: string } // debug: the name in the peer's CHAP Response
  | { type: 'compression'; method: string } // ccp.c: "MPPE 128-bit stateless compression enabled"
  | { type: 'dialled'; number: string } // `laplink modem answer` (peer: dialup) on the connect script's stderr
  | { type: 'other'; text: string };

type Rule = [RegExp, (m: RegExpMatchArray) => PppdEvent];

/** pppd 2.4.9 prints link-local addresses zero-padded (`fe80::0000:0000:0000:0001`); the state and
 *  `status` show them as `ip` does (`fe80::1`, RFC 5952). Text that is no address is kept as printed. */
function canonicalIpv6(text: string): string {
  return ipaddr.IPv6.isValid(text) ? ipaddr.IPv6.parse(text).toRFC5952String() : text;
}

/** pppd's `<auth …>` option text (lcp.c print) → the profile's spelling of the kind. */
const AUTH_NAMES: Record<string, string> = { 'pap': 'pap', 'chap MD5': 'chap', 'chap MS': 'mschap', 'chap MS-v2': 'mschap-v2', 'eap': 'eap' };

const rules: Rule[] = [
  [/^Serial connection established\.$/, () => ({ type: 'serial-connected' })],
  [/^Connect script failed$/, () => ({ type: 'connect-script-failed' })],
  [/^Using interface (\S+)$/, (m) => ({ type: 'interface', iface: m[1]! })],
  [/^Connect: (\S+) <--> (\S+)$/, (m) => ({ type: 'connect', iface: m[1]!, device: m[2]! })],
  [/^PAP peer authentication succeeded for (.+)$/, (m) => ({ type: 'peer-authenticated', user: m[1]! })],
  [/^CHAP peer authentication succeeded for (.+)$/, (m) => ({ type: 'peer-authenticated', user: m[1]! })],
  [/^user (\S+) logged in/, (m) => ({ type: 'user-login', user: m[1]! })],
  [/^PAP peer authentication failed for (.+)$/, (m) => ({ type: 'peer-auth-failed', user: m[1]! })],
  [/^Peer (\S+) failed (?:PAP|CHAP) authentication$/, (m) => ({ type: 'peer-auth-failed', user: m[1]! })],
  [/^(?:PAP|CHAP) authentication failed/, () => ({ type: 'auth-failed' })],
  [/^Remote message: (.*)$/, (m) => ({ type: 'remote-message', text: m[1]! })],
  [/^local {2}IP address (\S+)$/, (m) => ({ type: 'local-ip', ip: m[1]! })],
  [/^remote IP address (\S+)$/, (m) => ({ type: 'remote-ip', ip: m[1]! })],
  [/^local {2}LL address (\S+)$/, (m) => ({ type: 'local-ip6', ip: canonicalIpv6(m[1]!) })],
  [/^remote LL address (\S+)$/, (m) => ({ type: 'remote-ip6', ip: canonicalIpv6(m[1]!) })],
  [/^(\S+) terminated by peer(?: \((.*)\))?$/, (m) => ({ type: 'terminated-by-peer', protocol: m[1]!, ...(m[2] !== undefined ? { reason: m[2] } : {}) })],
  [/^No response to (\d+) echo-requests$/, (m) => ({ type: 'echo-timeout', count: Number(m[1]) })],
  [/^Serial link appears to be disconnected\.?$/, () => ({ type: 'link-disconnected' })],
  [/^Modem hangup$/, () => ({ type: 'modem-hangup' })],
  [/^Connection terminated\.$/, () => ({ type: 'connection-terminated' })],
  [/^Connect time ([\d.]+) minutes\.$/, (m) => ({ type: 'connect-time', minutes: Number(m[1]) })],
  [/^Sent (\d+) bytes, received (\d+) bytes\.$/, (m) => ({ type: 'traffic', sent: Number(m[1]), received: Number(m[2]) })],
  [/^Terminating on signal (\d+)/, (m) => ({ type: 'terminating', signal: Number(m[1]) })],
  [/^Device (\S+) is locked by pid (\d+)$/, (m) => ({ type: 'device-locked', device: m[1]!, pid: Number(m[2]) })],
  [/^Failed to open (\S+): (.*)$/, (m) => ({ type: 'open-failed', device: m[1]!, error: m[2]! })],
  [/^Serial line is looped back\.$/, () => ({ type: 'loopback' })],
  [/^Terminating connection due to lack of activity\.$/, () => ({ type: 'idle-timeout' })],
  // Only with pppd's `debug` (serve --debug): pppd 2.4.9 logs neither the CHAP kind nor a CHAP peer's name otherwise.
  [/^(?:sent|rcvd) \[LCP ConfAck id=0x[0-9a-f]+ .*<auth (pap|chap MD5|chap MS-v2|chap MS|eap)>/, (m) => ({ type: 'auth-method', method: AUTH_NAMES[m[1]!]! })],
  [/^rcvd \[CHAP Response id=0x[0-9a-f]+ <[0-9a-f]*>, name = "(.+)"\]$/, (m) => ({ type: 'chap-peer-name', user: m[1]! })],
  [/^(MPPE \d+-bit (?:stateless|stateful)|Deflate \(\d+\)|BSD-Compress \(\d+\)) (?:compression enabled)$/, (m) => ({ type: 'compression', method: m[1]! })],
  [/^modem: peer dialled (\S+)$/, (m) => ({ type: 'dialled', number: m[1]! })],
  [/^(?:Couldn't open the \/dev\/ppp device|Please load the ppp_generic kernel module|This system lacks kernel support for PPP|You need to create the \/dev\/ppp device node)/, (m) => ({ type: 'no-kernel-support', text: m.input! })],
];

/** Characters a mask may be made of; the first one that occurs in no secret is used. */
const MASK_CHARS = ['*', '#', '~', '%', '@', '^', '\u2022', '\u2591'];

/**
 * `text` with every occurrence of each secret replaced by eight mask characters. The mask character
 * is one no secret contains: a mask of `*` for the secret `a*` would turn `aa*` into `a********`,
 * which still holds `a*`. With a character foreign to every secret, no occurrence can span a mask,
 * and the text between masks held none to begin with.
 */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  const live = secrets.filter((s) => s.length > 0);
  if (live.length === 0) return text;
  const ch = MASK_CHARS.find((c) => live.every((s) => !s.includes(c))) ?? String.fromCodePoint(0xe000 + live.length);
  let out = text;
  for (const s of live) out = out.split(s).join(ch.repeat(8));
  return out;
}

/** One line of pppd output (without its newline) → an event, with `secrets` masked in every field.
 *  pppd prefixes option errors with "pppd: " on stderr; that prefix is dropped before matching. */
export function parsePppdLine(raw: string, secrets: readonly string[] = []): PppdEvent {
  const line = maskSecrets(raw.replace(/\r$/, '').replace(/^pppd: /, '').trimEnd(), secrets);
  for (const [re, make] of rules) {
    const m = line.match(re);
    if (m) return make(m);
  }
  return { type: 'other', text: line };
}

/** Why a link went down, in a person's words, for the events that say so. pppd prints the telling
 *  line before its generic ones, so a later event replaces an earlier reason, except the weak ones. */
const reasons: { [K in PppdEvent['type']]?: (e: Extract<PppdEvent, { type: K }>) => string } = {
  'terminated-by-peer': (e) => `${e.protocol} terminated by peer${e.reason ? ` (${e.reason})` : ''}`,
  'modem-hangup': () => 'modem hangup',
  'link-disconnected': () => 'serial link appears to be disconnected (no LCP echo replies)',
  'peer-auth-failed': (e) => `peer ${e.user} failed authentication`,
  'auth-failed': () => 'the peer refused our authentication',
  'device-locked': (e) => `${e.device} is locked by pid ${e.pid}`,
  'open-failed': (e) => `cannot open ${e.device}: ${e.error}`,
  loopback: () => 'the serial line is looped back: what we send echoes back',
  'connect-script-failed': () => 'connect script (handshake) failed',
};

/** "Modem hangup" follows whatever really ended the link (an echo timeout, the peer's TermReq). */
const weakReasons = new Set<PppdEvent['type']>(['modem-hangup']);

/** The reason to keep after event `e`, given the reason so far. */
export function nextReason(e: PppdEvent, current: string | undefined): string | undefined {
  const describe = reasons[e.type] as ((e: PppdEvent) => string) | undefined;
  if (!describe) return current;
  if (weakReasons.has(e.type) && current !== undefined) return current;
  return describe(e);
}
