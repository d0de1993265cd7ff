/**
 * pppd's log lines → typed events. The patterns are the messages of pppd 2.4.9 (main.c, auth.c,
 * ipcp.c, lcp.c, fsm.c, tty.c, upap.c, session.c, utils.c, sys-linux.c) as printed with `nodetach`:
 * one message per line, no syslog prefix. Lines we do not know are passed on as `other` so nothing
 * is lost in the supervisor's log.
 */

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
  | { type: 'dialled'; number: string } // `laplink modem answer` (peer: dialup) on the connect script's stderr
  | { type: 'other'; text: string };

type Rule = [RegExp, (m: RegExpMatchArray) => PppdEvent];

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
  [/^modem: peer dialled (\S+)$/, (m) => ({ type: 'dialled', number: m[1]! })],
  [/^(?:Couldn't open the \/dev\/ppp device|Please load the ppp_generic kernel module|This system lacks kernel support for PPP|You need to create the \/dev\/ppp device node)/, (m) => ({ type: 'no-kernel-support', text: m.input! })],
];

/** One line of pppd output (without its newline) → an event. pppd prefixes option errors with
 *  "pppd: " on stderr; that prefix is dropped before matching. */
export function parsePppdLine(raw: string): PppdEvent {
  const line = raw.replace(/\r$/, '').replace(/^pppd: /, '').trimEnd();
  for (const [re, make] of rules) {
    const m = line.match(re);
    if (m) return make(m);
  }
  return { type: 'other', text: line };
}
