/**
 * pppd's exit statuses (pppd(8) EXIT STATUS, pppd.h EXIT_*) and what the supervisor does about each.
 * The policy is the point of supervising pppd ourselves instead of inittab's blind `respawn`: a
 * configuration mistake is reported once with a remedy, a flaky line is retried with backoff, and a
 * plain hangup is answered at once.
 */

/** `stop`: retrying cannot help, tell the user what to do. `backoff`: retry later, growing delays.
 *  `respawn`: start again at once. `done`: the call ended normally (one-shot client). */
export type ExitAction = 'stop' | 'backoff' | 'respawn' | 'done';

export interface ExitPolicy {
  code: number;
  /** pppd.h constant name, for people who read pppd's source. */
  constant: string;
  /** Short meaning shown in `laplink status`. */
  meaning: string;
  /** What the supervisor does for a server (or `--persist` client). */
  action: ExitAction;
  /** What to do about it, for statuses that are not retried or that need a person's attention. */
  remedy?: string;
}

const table: ExitPolicy[] = [
  { code: 0, constant: 'EXIT_OK', meaning: 'link ended normally', action: 'respawn' },
  { code: 1, constant: 'EXIT_FATAL_ERROR', meaning: 'fatal error', action: 'stop', remedy: 'pppd hit a fatal error; read the lines it logged above and fix the cause' },
  { code: 2, constant: 'EXIT_OPTION_ERROR', meaning: 'options error', action: 'stop', remedy: 'pppd rejected an option; run `laplink check` and `laplink generate` again, and compare extraOptions with pppd(8)' },
  { code: 3, constant: 'EXIT_NOT_ROOT', meaning: 'not root', action: 'stop', remedy: 'pppd must run as root (or be setuid-root); start `laplink serve`/`connect` as root or through the systemd unit' },
  { code: 4, constant: 'EXIT_NO_KERNEL_SUPPORT', meaning: 'no kernel PPP support', action: 'stop', remedy: 'load the kernel modules ppp_generic, ppp_async and slhc (`modprobe ppp_async`) and make sure /dev/ppp exists (`mknod /dev/ppp c 108 0`); a kernel built without PPP cannot run a link' },
  { code: 5, constant: 'EXIT_USER_REQUEST', meaning: 'stopped by a signal', action: 'respawn' },
  { code: 6, constant: 'EXIT_LOCK_FAILED', meaning: 'serial port lock failed', action: 'stop', remedy: 'another program holds the UUCP lock of the serial port; stop it (or remove a stale lock file) and start again' },
  { code: 7, constant: 'EXIT_OPEN_FAILED', meaning: 'serial port open failed', action: 'backoff', remedy: 'check the device name, its permissions and that no getty runs on it' },
  { code: 8, constant: 'EXIT_CONNECT_FAILED', meaning: 'connect script failed', action: 'backoff', remedy: 'the handshake with the peer failed; is the other end running and the cable plugged in?' },
  { code: 9, constant: 'EXIT_PTYCMD_FAILED', meaning: 'pty program failed', action: 'backoff', remedy: 'the pty program (laplink bridge stdio) could not run or connect; is the bridge reachable?' },
  { code: 10, constant: 'EXIT_NEGOTIATION_FAILED', meaning: 'PPP negotiation failed', action: 'backoff', remedy: 'LCP/IPCP negotiation failed; compare both ends\' options (speed, flow control, addresses)' },
  { code: 11, constant: 'EXIT_PEER_AUTH_FAILED', meaning: 'peer failed to authenticate', action: 'backoff', remedy: 'the peer sent a user/password this end does not accept; check pap-secrets and the peer\'s credentials' },
  { code: 12, constant: 'EXIT_IDLE_TIMEOUT', meaning: 'idle timeout', action: 'respawn' },
  { code: 13, constant: 'EXIT_CONNECT_TIME', meaning: 'connect time limit reached', action: 'respawn' },
  { code: 14, constant: 'EXIT_CALLBACK', meaning: 'callback negotiated', action: 'respawn' },
  { code: 15, constant: 'EXIT_PEER_DEAD', meaning: 'peer not responding', action: 'backoff', remedy: 'the peer stopped answering LCP echo requests; is the cable plugged in and the peer up?' },
  { code: 16, constant: 'EXIT_HANGUP', meaning: 'line hung up', action: 'respawn' },
  { code: 17, constant: 'EXIT_LOOPBACK', meaning: 'loopback detected', action: 'backoff', remedy: 'the line echoes back what this end sends: the cable loops back or nothing but an echoing device is on the other end' },
  { code: 18, constant: 'EXIT_INIT_FAILED', meaning: 'init script failed', action: 'backoff', remedy: 'the init script failed; read its output above' },
  { code: 19, constant: 'EXIT_AUTH_TOPEER_FAILED', meaning: 'authentication to peer failed', action: 'backoff', remedy: 'the peer refused this end\'s user/password; check auth.user and the password in the profile' },
];

const byCode = new Map(table.map((p) => [p.code, p]));

/** The whole table in status order (README, tests, `laplink status --help`). */
export function exitPolicies(): readonly ExitPolicy[] {
  return table;
}

/** Policy for one exit status; anything outside 0-19 (plugins' 20/21, crashes) is backed off. */
export function exitPolicy(code: number): ExitPolicy {
  return byCode.get(code) ?? { code, constant: 'UNKNOWN', meaning: `unknown exit status ${code}`, action: 'backoff' };
}

/** The action for a given role: a one-shot client (`connect` without --persist) makes one call, so
 *  whatever ended it, it is done; the remedy is still reported. */
export function actionFor(code: number, oneShot: boolean): ExitAction {
  const p = exitPolicy(code);
  if (oneShot) return p.action === 'stop' ? 'stop' : 'done';
  return p.action;
}
