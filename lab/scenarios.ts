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
  /** Restricted user networking: guest 10.0.2.100:port reaches the host join's loopback port only. */
  guestfwdPort?: number;
}

export interface HostControl {
  waitA(pattern: RegExp, timeoutMs: number): Promise<unknown>;
  waitB(pattern: RegExp, timeoutMs: number): Promise<unknown>;
  /** Stop the host join (kill the bridge: the cable is cut). */
  cut(): Promise<void>;
  /** Start the host join again. */
  reconnect(): Promise<void>;
}

/**
 * socat: the two guests' ptys joined directly. tcp: guest A's pty served on a host loopback port,
 * which guest B reaches through its guestfwd (scenario 5).
 */
export type HostJoin = 'socat' | 'tcp';

export interface Scenario {
  id: string;
  title: string;
  /** How the host joins guest A's cable to guest B's. */
  join: HostJoin;
  a: GuestPlan;
  b: GuestPlan;
  /** Markers each guest must print for the scenario to pass. */
  expectA: RegExp[];
  expectB: RegExp[];
  /**
   * Optional host-side steps while the guests run (scenario 3 cuts the cable): given the guests'
   * marker waits and the join's stop/start.
   */
  host?: (ctl: HostControl) => Promise<void>;
  /** Which parts run on the product and which on stand-ins (reported in the timing table). */
  runsOn: string;
}

const BB = '/usr/bin/busybox';

/** Common prologue: strict-ish shell, the repo as cwd, our CLI. */
function prologue(): string {
  return [
    `export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    `cd ${packageRoot()}`,
    `LAPLINK="node ${packageRoot()}/bin/laplink.js"`,
    `mkdir -p /var/run /run/lock`,
  ].join('\n');
}

/** Wait (inside the guest, bounded) until ppp0 has the given local address. */
function waitIp(ip: string, seconds: number): string {
  return `end=$(( $(date +%s) + ${seconds} )); until ip -4 addr show ppp0 2>/dev/null | grep -q "inet ${ip} "; do [ $(date +%s) -gt $end ] && break; kill -0 $PPPD 2>/dev/null || break; ${BB} sleep 0.2; done
if ip -4 addr show ppp0 2>/dev/null | grep -q "inet ${ip} "; then echo "LAB:UP $(ip -4 -o addr show ppp0 | ${BB} awk '{print $4, $6}')"; else echo "LAB:NOT-UP"; sed 's/^/LAB:LOG /' /tmp/pppd.log; fi`;
}

function ping(ip: string, count: number): string {
  return `if ${BB} ping -c ${count} -W 3 ${ip} > /tmp/ping.out 2>&1; then echo "LAB:PING-OK ${ip} $(grep -o '[0-9]* packets received' /tmp/ping.out)"; else echo "LAB:PING-FAIL ${ip}"; cat /tmp/ping.out; fi`;
}

/** Scenario 1: the HOWTO link, PAP, both ends from `laplink generate` of the lab profiles. */
export function howtoScenario(): Scenario {
  const server = `${prologue()}
$LAPLINK generate lab/profiles/server.yaml > /tmp/gen.out 2>&1 && echo "LAB:GENERATED" || { echo "LAB:FAIL generate"; cat /tmp/gen.out; }
# stand-in for \`laplink serve\` (supervisor not landed): pppd from the generated peers file
pppd call lab-server nodetach > /tmp/pppd.log 2>&1 &
PPPD=$!
${waitIp('192.168.7.1', 40)}
${ping('192.168.7.2', 5)}
grep -E 'PAP peer authentication|local  IP|remote IP' /tmp/pppd.log | sed 's/^/LAB:PPPD /'
kill $PPPD; wait $PPPD; echo "LAB:PPPD-EXIT $?"
`;
  const client = `${prologue()}
$LAPLINK generate lab/profiles/client.yaml > /tmp/gen.out 2>&1 && echo "LAB:GENERATED" || { echo "LAB:FAIL generate"; cat /tmp/gen.out; }
pppd call lab-client nodetach > /tmp/pppd.log 2>&1 &
PPPD=$!
${waitIp('192.168.7.2', 40)}
${ping('192.168.7.1', 3)}
grep -E 'local  IP|remote IP' /tmp/pppd.log | sed 's/^/LAB:PPPD /'
# the server hangs up after its own pings; bounded wait for that
i=0; while kill -0 $PPPD 2>/dev/null && [ $i -lt 100 ]; do i=$((i+1)); ${BB} sleep 0.2; done
kill $PPPD 2>/dev/null; wait $PPPD; echo "LAB:PPPD-EXIT $?"
`;
  return {
    id: '1-howto',
    title: 'HOWTO link: PAP, 192.168.7.1 <-> .2, ping both ways',
    join: 'socat',
    a: { name: 'A-server', script: server, cable: true },
    b: { name: 'B-client', script: client, cable: true },
    expectA: [/LAB:GENERATED/, /LAB:UP 192\.168\.7\.1 192\.168\.7\.2/, /LAB:PING-OK 192\.168\.7\.2 [1-9]\d* packets received/, /LAB:PPPD PAP peer authentication succeeded for labuser/],
    expectB: [/LAB:GENERATED/, /LAB:UP 192\.168\.7\.2 192\.168\.7\.1/, /LAB:PING-OK 192\.168\.7\.1 [1-9]\d* packets received/],
    runsOn: 'laplink generate (product); pppd call (stand-in for laplink serve/connect); socat (stand-in for laplink bridge)',
  };
}

const REAL_CHAT = '/usr/sbin/chat';

/**
 * Scenario 2: Windows DCC interop. Both ends from the `peer: windows` profiles; the generated
 * connect line runs our chat engine with the generated chat file. Until the engine lands, the
 * same generated chat file is run by the real chat(8) (`connect` given after `call` overrides it).
 */
export function dccScenario(serverChat: 'real' | 'laplink', clientChat: 'real' | 'laplink'): Scenario {
  const connect = (who: 'server' | 'client', how: 'real' | 'laplink') =>
    how === 'real' ? ` connect "${REAL_CHAT} -v -s -f /etc/ppp/chat/lab-${who}-windows"` : '';
  const server = `${prologue()}
$LAPLINK generate lab/profiles/server-windows.yaml > /tmp/gen.out 2>&1 && echo "LAB:GENERATED" || { echo "LAB:FAIL generate"; cat /tmp/gen.out; }
pppd call lab-server-windows nodetach${connect('server', serverChat)} > /tmp/pppd.log 2>&1 &
PPPD=$!
${waitIp('192.168.7.1', 60)}
${ping('192.168.7.2', 5)}
grep -E 'CLIENT|PAP peer authentication|local  IP|remote IP' /tmp/pppd.log | sed 's/^/LAB:PPPD /'
kill $PPPD; wait $PPPD; echo "LAB:PPPD-EXIT $?"
`;
  const client = `${prologue()}
$LAPLINK generate lab/profiles/client-windows.yaml > /tmp/gen.out 2>&1 && echo "LAB:GENERATED" || { echo "LAB:FAIL generate"; cat /tmp/gen.out; }
pppd call lab-client-windows nodetach${connect('client', clientChat)} > /tmp/pppd.log 2>&1 &
PPPD=$!
${waitIp('192.168.7.2', 60)}
${ping('192.168.7.1', 3)}
grep -E 'CLIENT|local  IP|remote IP' /tmp/pppd.log | sed 's/^/LAB:PPPD /'
i=0; while kill -0 $PPPD 2>/dev/null && [ $i -lt 100 ]; do i=$((i+1)); ${BB} sleep 0.2; done
kill $PPPD 2>/dev/null; wait $PPPD; echo "LAB:PPPD-EXIT $?"
`;
  const label = (h: string) => (h === 'real' ? 'chat(8)' : 'laplink chat');
  return {
    id: `2-dcc-${serverChat}-${clientChat}`,
    title: `Windows DCC: host side ${label(serverChat)}, guest side ${label(clientChat)}`,
    join: 'socat',
    a: { name: 'A-dcc-host', script: server, cable: true },
    b: { name: 'B-dcc-guest', script: client, cable: true },
    expectA: [/LAB:GENERATED/, /LAB:UP 192\.168\.7\.1 192\.168\.7\.2/, /LAB:PING-OK 192\.168\.7\.2 [1-9]\d* packets received/],
    expectB: [/LAB:GENERATED/, /LAB:UP 192\.168\.7\.2 192\.168\.7\.1/, /LAB:PING-OK 192\.168\.7\.1 [1-9]\d* packets received/],
    runsOn: `laplink generate (product); ${label(serverChat)} / ${label(clientChat)} with the generated DCC chat files; pppd call (stand-in for serve/connect); socat (stand-in for bridge)`,
  };
}

/**
 * Scenario 3: cut cable. The host kills the join while the link is up; LCP echo makes both pppds
 * exit 16; a respawn loop (stand-in for the supervisor) starts pppd again; the host restores the
 * join and the link comes back.
 */
export function cutCableScenario(): Scenario {
  const side = (profile: string, link: string, ip: string, peer: string) => `${prologue()}
$LAPLINK generate lab/profiles/${profile}.yaml > /tmp/gen.out 2>&1 && echo "LAB:GENERATED" || { echo "LAB:FAIL generate"; cat /tmp/gen.out; }
for run in 1 2; do
  pppd call ${link} nodetach > /tmp/pppd.log 2>&1 &
  PPPD=$!
  ${waitIp(ip, 60).replace(/LAB:UP /, 'LAB:UP$run ').replace(/LAB:NOT-UP/, 'LAB:NOT-UP$run')}
  if [ $run = 1 ]; then wait $PPPD; echo "LAB:PPPD-EXIT1 $?"; grep -E 'echo-requests|disconnected' /tmp/pppd.log | sed 's/^/LAB:PPPD /'; fi
done
${ping(peer, 2)}
i=0; while kill -0 $PPPD 2>/dev/null && [ $i -lt 25 ]; do i=$((i+1)); ${BB} sleep 0.2; done
kill $PPPD 2>/dev/null; wait $PPPD; echo "LAB:PPPD-EXIT2 $?"
`;
  return {
    id: '3-cut-cable',
    title: 'cut cable: bridge killed, both pppd exit 16, respawn, link back',
    join: 'socat',
    a: { name: 'A-server', script: side('server', 'lab-server', '192.168.7.1', '192.168.7.2'), cable: true },
    b: { name: 'B-client', script: side('client', 'lab-client', '192.168.7.2', '192.168.7.1'), cable: true },
    host: async (ctl) => {
      await Promise.all([ctl.waitA(/LAB:UP1 /, 90_000), ctl.waitB(/LAB:UP1 /, 90_000)]);
      await ctl.cut();
      await Promise.all([ctl.waitA(/LAB:PPPD-EXIT1 /, 60_000), ctl.waitB(/LAB:PPPD-EXIT1 /, 60_000)]);
      await ctl.reconnect();
    },
    expectA: [/LAB:UP1 192\.168\.7\.1/, /LAB:PPPD-EXIT1 16/, /LAB:UP2 192\.168\.7\.1/, /LAB:PING-OK 192\.168\.7\.2/],
    expectB: [/LAB:UP1 192\.168\.7\.2/, /LAB:PPPD-EXIT1 16/, /LAB:UP2 192\.168\.7\.2/, /LAB:PING-OK 192\.168\.7\.1/],
    runsOn: 'laplink generate (product); pppd respawn loop (stand-in for laplink serve/connect); socat killed and restarted (stand-in for bridge)',
  };
}

/** Scenario 4: the client's password is wrong: the server's pppd exits 11, the client's 19. */
export function wrongPasswordScenario(): Scenario {
  const server = `${prologue()}
$LAPLINK generate lab/profiles/server.yaml > /tmp/gen.out 2>&1 && echo "LAB:GENERATED" || { echo "LAB:FAIL generate"; cat /tmp/gen.out; }
pppd call lab-server nodetach > /tmp/pppd.log 2>&1
echo "LAB:PPPD-EXIT $?"
grep -E 'PAP peer authentication' /tmp/pppd.log | sed 's/^/LAB:PPPD /'
`;
  const client = `${prologue()}
sed 's/password: labpass/password: not-the-password/' lab/profiles/client.yaml > /tmp/client-bad.yaml
$LAPLINK generate /tmp/client-bad.yaml > /tmp/gen.out 2>&1 && echo "LAB:GENERATED" || { echo "LAB:FAIL generate"; cat /tmp/gen.out; }
pppd call lab-client nodetach > /tmp/pppd.log 2>&1
echo "LAB:PPPD-EXIT $?"
`;
  return {
    id: '4-wrong-password',
    title: 'wrong password: server pppd exits 11, client 19',
    join: 'socat',
    a: { name: 'A-server', script: server, cable: true },
    b: { name: 'B-client', script: client, cable: true },
    expectA: [/LAB:GENERATED/, /LAB:PPPD-EXIT 11/, /LAB:PPPD PAP peer authentication failed for labuser/],
    expectB: [/LAB:GENERATED/, /LAB:PPPD-EXIT 19/],
    runsOn: 'laplink generate (product); pppd call (stand-in for serve/connect, no back-off yet); socat (stand-in for bridge)',
  };
}

/**
 * Scenario 5: guest B has no serial port at all. Its generated peers file runs pppd over
 * \`pty "laplink bridge stdio 10.0.2.100:7000"\`; qemu's user networking (restrict=on) forwards only
 * that address to the host's loopback port where guest A's line is served. Until the bridge
 * lands, socat stands in on both ends (the later pty option overrides the generated one).
 */
export function bridgeProfileScenario(): Scenario {
  const server = howtoScenario().a;
  const client = `${prologue()}
ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 && echo "LAB:NET"
$LAPLINK generate lab/profiles/client-bridge.yaml > /tmp/gen.out 2>&1 && echo "LAB:GENERATED" || { echo "LAB:FAIL generate"; cat /tmp/gen.out; }
grep '^pty' /etc/ppp/peers/lab-client-bridge | sed 's/^/LAB:PEERS /'
pppd call lab-client-bridge nodetach pty "socat - TCP:10.0.2.100:7000" > /tmp/pppd.log 2>&1 &
PPPD=$!
${waitIp('192.168.7.2', 60)}
${ping('192.168.7.1', 3)}
i=0; while kill -0 $PPPD 2>/dev/null && [ $i -lt 100 ]; do i=$((i+1)); ${BB} sleep 0.2; done
kill $PPPD 2>/dev/null; wait $PPPD; echo "LAB:PPPD-EXIT $?"
`;
  return {
    id: '5-bridge-profile',
    title: 'bridge: profile, line over TCP via restricted guestfwd, no serial port',
    join: 'tcp',
    a: server,
    b: { name: 'B-bridge-client', script: client, cable: false, guestfwdPort: 7000 },
    expectA: [/LAB:UP 192\.168\.7\.1 192\.168\.7\.2/, /LAB:PING-OK 192\.168\.7\.2 [1-9]\d* packets received/, /LAB:PPPD PAP peer authentication succeeded for labuser/],
    expectB: [/LAB:NET/, /LAB:PEERS pty ".*bridge stdio 10\.0\.2\.100:7000"/, /LAB:UP 192\.168\.7\.2 192\.168\.7\.1/, /LAB:PING-OK 192\.168\.7\.1 [1-9]\d* packets received/],
    runsOn: 'laplink generate (product, bridge: profile); pppd pty socat (stand-in for laplink bridge stdio); host socat TCP-LISTEN (stand-in for laplink bridge serve)',
  };
}

export function allScenarios(): Scenario[] {
  return [howtoScenario(), dccScenario('real', 'real'), cutCableScenario(), wrongPasswordScenario(), bridgeProfileScenario()];
}
