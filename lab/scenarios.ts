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
}

export type HostJoin = 'socat' | 'none';

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

export function allScenarios(): Scenario[] {
  return [howtoScenario()];
}
