/**
 * What every lab scenario is made of: the guest plans and the scenario's shape, and the shell steps
 * the guests' scripts share (bring-up waits, pings, state lines), so the scenario files import this
 * and the registry (scenarios.ts) imports the scenario files, never the other way round.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { packageRoot } from '../src/paths.js';

/**
 * What each guest runs, kept as data (shell text) so moving a step from a stand-in to the product
 * (`pppd call` → `laplink serve`, socat → `laplink bridge`) is a one-line change here.
 *
 * Guest scripts run inside the guest's overlay root, where the host's / (and so this checkout, the
 * host's node and pppd) is visible read-only. They print `LAB:` markers on the console; the runner
 * decides pass/fail from those lines only.
 */
export interface GuestPlan {
  name: string;
  script: string;
  cable: boolean;
  /** A second cable on ttyS2 (guest A serving two links; guest C is on its other end). */
  cable2?: boolean;
  /** Restricted user networking: guest 10.0.2.100:port reaches the host join's loopback port only. */
  guestfwdPort?: number;
  /** Restricted user networking where a host loopback port reaches this guest's port (guest A serving callers). */
  hostfwdPort?: number;
  /**
   * How many of this guest's serial ports (ttyS2, then ttyS3) are TCP clients of the host port
   * forwarded to guest A's hostfwdPort, as an emulator's COM port is: one connection each.
   */
  dialsA?: 1 | 2;
}

export interface HostControl {
  waitA(pattern: RegExp, timeoutMs: number): Promise<unknown>;
  waitB(pattern: RegExp, timeoutMs: number): Promise<unknown>;
  waitC(pattern: RegExp, timeoutMs: number): Promise<unknown>;
  /** Stop the host join (kill the bridge: the cable is cut). */
  cut(): Promise<void>;
  /** Start the host join again. */
  reconnect(): Promise<void>;
}

/**
 * bridge*: our `laplink bridge serve` on guest A's pty + `laplink bridge connect` on guest B's, with
 * that wire protocol on the TCP hop. socat: the two guests' ptys joined directly (comparison). tcp: guest A's pty served on a host loopback port,
 * which guest B reaches through its guestfwd (scenario 5).
 */
export type HostJoin = 'bridge' | 'bridge-telnet' | 'bridge-rfc2217' | 'socat' | 'tcp';

export interface Scenario {
  id: string;
  title: string;
  /** How the host joins guest A's cable to guest B's. */
  join: HostJoin;
  a: GuestPlan;
  b: GuestPlan;
  /**
   * A third guest, on guest A's second cable (A has cable2), joined like A and B but never cut.
   * Three TCG guests share the host's two cores: one scenario only, kept short.
   */
  c?: GuestPlan;
  /**
   * A host step on guest A's second cable before guest C is joined to it, given the loopback port
   * A's end is served on (scenario 11: a caller that hears the answer and leaves).
   */
  beforeJoinC?: (port: number, signal: AbortSignal) => Promise<void>;
  /** Markers each guest must print for the scenario to pass. */
  expectA: RegExp[];
  expectB: RegExp[];
  expectC?: RegExp[];
  /**
   * Optional host-side steps while the guests run (scenario 3 cuts the cable): given the guests'
   * marker waits and the join's stop/start.
   */
  host?: (ctl: HostControl) => Promise<void>;
  /** Which parts run on the product and which on stand-ins (reported in the timing table). */
  runsOn: string;
  /**
   * The tcp join's bridge speaks TLS: keys made by `laplink bridge keygen` in the scenario's
   * directory, tls/ (the script's own directory: \`$(dirname "$0")/tls\`), the client's certificate
   * let in by its fingerprint, the host's pinned by the guest from tls/host.pin.
   */
  joinTls?: boolean;
  /** The bridge join paces both directions like a UART at this baud rate (`bridge serve --pace`). */
  pace?: number;
  /** Run that bridge at real-time priority (chrt -f 50) when root: a late pacer loses line time. */
  paceRealtime?: boolean;
  /** Run both guests' qemu at this nice value when root (the link bench: a late guest stalls the line). */
  guestNice?: number;
  /** A judgement beyond markers (numbers read from B's console); returns the problem, if any. */
  check?: (consoleB: string, consoleA: string) => string | undefined;
  /** A server this host runs for the scenario on 127.0.0.1 (guest A's guestfwd reaches its port). */
  hostService?: () => Promise<HostService>;
  /** Ceiling for each guest's whole run when the scenario does more than one link's worth (default 150 s). */
  guestTimeoutMs?: number;
}

export interface HostService { port: number; close(): Promise<void> }

export const BB = '/usr/bin/busybox';

/** Common prologue: strict-ish shell, the repo as cwd, our CLI. */
export function prologue(): string {
  return [
    `export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    `cd ${packageRoot()}`,
    `LAPLINK="node ${packageRoot()}/bin/laplink.js"`,
    `mkdir -p /var/run /run/lock`,
  ].join('\n');
}

/**
 * Wait (inside the guest, bounded) until ppp0 has the given local address and is up. pppd sets the
 * address before it brings the interface up (ipcp_up: sifaddr, then sifup), and the peer's route
 * comes with the second: a ping sent in between fails with "Network is unreachable" (seen once in
 * CI, under load).
 */
export function waitIp(ip: string, seconds: number): string {
  const up = `ip -4 addr show ppp0 2>/dev/null | grep -q "inet ${ip} " && ip -o link show ppp0 2>/dev/null | grep -q '[<,]UP[,>]'`;
  return `end=$(( $(date +%s) + ${seconds} )); until ${up}; do [ $(date +%s) -gt $end ] && break; kill -0 $PPPD 2>/dev/null || break; ${BB} sleep 0.2; done
if ${up}; then echo "LAB:UP $(ip -4 -o addr show ppp0 | ${BB} awk '{print $4, $6}')"; else echo "LAB:NOT-UP"; ip -o link show ppp0 2>&1 | sed 's/^/LAB:LINK /'; sed 's/^/LAB:LOG /' /tmp/pppd.log; fi`;
}

/** Ping the peer; on failure the guest also prints the tail of pppd's (or the supervisor's) log. */
export function ping(ip: string, count: number): string {
  return `if ${BB} ping -c ${count} -W 3 ${ip} > /tmp/ping.out 2>&1; then echo "LAB:PING-OK ${ip} $(grep -o '[0-9]* packets received' /tmp/ping.out)"; else echo "LAB:PING-FAIL ${ip}"; cat /tmp/ping.out; for f in /tmp/pppd.log /tmp/sup.log; do [ -f $f ] && tail -n 40 $f | sed 's/^/LAB:LOG /'; done; fi`;
}

/** Exit markers of one side kept in the state file, as the JSON `laplink status --json NAME` prints. */
export function statusLine(link: string, tag = 'STATUS'): string {
  return `$LAPLINK status ${link} --json > /tmp/status.json 2>&1; echo "LAB:${tag} $(tr -d '\\n' < /tmp/status.json)"`;
}

/**
 * Wait (inside the guest, bounded) until the ppp0 that is up now is gone. Under a supervisor,
 * "ppp0 absent" is not enough: the respawned pppd makes a new ppp0 as soon as it opens the tty,
 * which can fall between two polls, so the old interface is known by its ifindex (never reused).
 */
export function waitDown(seconds: number): string {
  return `idx=$(cat /sys/class/net/ppp0/ifindex 2>/dev/null); end=$(( $(date +%s) + ${seconds} )); while [ -n "$idx" ] && [ "$(cat /sys/class/net/ppp0/ifindex 2>/dev/null)" = "$idx" ] && [ $(date +%s) -le $end ]; do ${BB} sleep 0.2; done`;
}

/** Wait (inside the guest, bounded) until the link's state file records pppd's exit `code`, reading
 *  the file directly: a `laplink status` per poll costs seconds of Node start-up in a TCG guest. */
export function waitExitCode(link: string, code: number, seconds: number): string {
  return `end=$(( $(date +%s) + ${seconds} )); until grep -qE '"code": *${code},' /run/laplink/${link}.json 2>/dev/null; do [ $(date +%s) -gt $end ] && break; ${BB} sleep 0.5; done`;
}

/** The file a peer fetches through a gateway (scenario 8, and a caller in 9), served on this host's loopback only. */
export async function payloadServer(token: string): Promise<HostService & { requests: () => number }> {
  let requests = 0;
  const server: Server = createServer((req, res) => {
    requests++;
    if (req.url === '/payload') { res.writeHead(200, { 'content-type': 'text/plain' }); res.end(`${token}\n`); return; }
    res.writeHead(404); res.end();
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', resolve); });
  return {
    port: (server.address() as AddressInfo).port,
    requests: () => requests,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
