import { randomBytes } from 'node:crypto';
import { BB, type HostService, payloadServer, ping, prologue, type Scenario, statusLine, waitIp } from './scenario-kit.js';

/** Calls B makes on ttyS2 in a row, on one connection to A's listener. */
const REDIALS = 10;
/** Every call A's listener answers: the redials, and ttyS3's call beside the first. */
const CALLS = REDIALS + 1;

/**
 * Scenario 9: the peer dials. Guest B is a plain Linux dialer: real pppd with chat(8) as its connect
 * program sending ATDT5551234, as any dial-up client does. Guest A runs `laplink serve` of a
 * `peer: dialup` profile, whose generated connect line is `laplink modem answer`: it answers the
 * AT commands as a Hayes modem, says CONNECT 115200, and pppd starts PPP. The dial must show in
 * A's `status --json` (the modem's stderr reaches the supervisor through pppd).
 *
 * B resends AT every 3 s (chat sub-expects) because its first AT can reach A's line before A's pppd
 * has opened it (bytes sent before the peer opens its tty are lost: pppd flushes on open), and redials
 * (`persist`) when a whole attempt finds no modem yet, as dialers' init retries and redial do: two
 * Node starts in a loaded TCG guest can take longer than one attempt.
 *
 * In the same boots, callers over TCP: A also serves a `listen:` profile (lab-callers) on its
 * port 2323, reached from the host's loopback through qemu's hostfwd (restricted user networking);
 * B's ttyS2 and ttyS3 are each a qemu TCP client of that host port, as an emulator's COM port is:
 * two connections. B dials on both at once with pppd + chat ATDT: two calls up together, each
 * with its own address from A's pool, pinging A side by side; the first fetches a file through
 * A's gateway (the generated nft masquerade) from an HTTP server on this host that only A's
 * restricted guestfwd reaches. Then B hangs up and dials again on ttyS2, ten calls in a row on
 * the same connection to the same listener process, each up and pinged: hung up by pppd (LCP
 * terminate; A says NO CARRIER), the last one by the modem (`+++`, `ATH`, with pppd gone without
 * a word). A's state file lists each call's pppd while it is up, and both calls when two are.
 */
export function dialupScenario(): Scenario {
  const token = `laplink-caller-payload-${randomBytes(8).toString('hex')}`;
  let served: (HostService & { requests: () => number }) | undefined;
  // in the background from the start of the callers listener: B calls while A is still busy with the cable's link
  const watchCallers = `# A's state file while B calls: each call's pppd shows under the link's callers as it comes up
STATE=/run/laplink/lab-callers.json; seen=' '; n=0; two=; end=$(( $(date +%s) + 200 ))
while [ $n -lt ${CALLS} ] && [ $(date +%s) -le $end ] && kill -0 $CALLERS 2>/dev/null; do
  state=$(tr -d ' \\n' < $STATE 2>/dev/null)
  pids=$(echo "$state" | grep -o '"state":"running"[^}]*"pppdPid":[0-9]*' | grep -o '[0-9]*$')
  for pid in $pids; do
    case "$seen" in *" $pid "*) ;; *) seen="$seen$pid "; n=$((n+1)); echo "LAB:CALLER $n $pid $(echo "$state" | grep -o '"callers":.*')" ;; esac
  done
  if [ -z "$two" ] && [ $(echo "$pids" | grep -c .) -ge 2 ]; then
    two=1; echo "LAB:CALLERS-AT-ONCE $(echo "$state" | grep -o '"ip":"[0-9.]*","since":"[^"]*","state":"running"' | grep -o '"ip":"[0-9.]*"' | tr '\\n' ' ')"
  fi
  ${BB} sleep 0.3
done`;
  // the listener's generated masquerade and forwarding, loaded as soon as serve has written them
  // (before it listens); nothing calls before that, and B's fetch comes a whole call later
  const callersGateway = `end=$(( $(date +%s) + 120 )); until grep -q 'listening on' /tmp/callers.log || [ $(date +%s) -gt $end ]; do ${BB} sleep 0.2; done
nft -f /etc/nftables.d/laplink-lab-callers.nft && echo "LAB:CALLERS-NFT $(grep -c 'counter masquerade' /etc/nftables.d/laplink-lab-callers.nft)"
sysctl -p /etc/sysctl.d/60-laplink-lab-callers.conf > /dev/null && echo "LAB:CALLERS-FORWARD $(cat /proc/sys/net/ipv4/ip_forward)"`;
  const endCallers = `wait $WATCH
end=$(( $(date +%s) + 30 )); until [ $(grep -c 'call over' /tmp/callers.log) -ge ${CALLS} ] || [ $(date +%s) -gt $end ]; do ${BB} sleep 0.2; done
grep -aE 'call over|hung up|refused|busy' /tmp/callers.log | sed 's/^/LAB:CALLERS /'
nft list table inet laplink_lab_callers | grep -o 'counter packets [0-9]* bytes [0-9]*' | sed 's/^/LAB:CALLERS-NFT /'
kill $CALLERS 2>/dev/null; wait $CALLERS; echo "LAB:CALLERS-EXIT $?"`;
  // B's ports are TCP clients of A's listener; an AT may go out while qemu reconnects or while A's
  // previous call is still ending (its pppd waits for its ip-down scripts), so resend it each second,
  // and redial (persist) while A's listener is not up yet: B's first call can come before A's Node
  // has started it on a loaded host. It waits for CONNECT as long as a modem waits for the carrier
  // (S7 = 50 s): a dialer that gave up early would redial into the call A answered. The time of CONNECT and the ATs sent go into each call's
  // LAB:T line: where a call's time went (the modem's answer, or PPP's negotiation)
  const dialCaller = `chat -v -s TIMEOUT 1 '' AT OK-AT-OK-AT-OK-AT-OK-AT-OK-AT-OK-AT-OK-AT-OK-AT-OK ATDT5552323 TIMEOUT 50 CONNECT '' && echo LAB:T connected \\$(head -c 8 /proc/uptime) >&2`;
  const calls = `# a call on a TTY as unit UNIT (pppUNIT), pppd in the background ($!)
dial() { pppd /dev/$1 115200 local nocrtscts noccp noauth noipdefault nodetach persist holdoff 1 maxfail 0 unit $2 user caller password callerpass lcp-restart 1 connect "${dialCaller}" > /tmp/call$2.log 2>&1 & }
# UNIT PID: bounded wait for the address A's pool gave pppUNIT; prints it (nothing if none came)
address() {
  end=$(( $(date +%s) + 60 )); until ip -4 -o addr show ppp$1 2>/dev/null | grep -q 'inet 192\\.168\\.8\\.'; do [ $(date +%s) -gt $end ] && break; kill -0 $2 2>/dev/null || break; ${BB} sleep 0.2; done
  ip -4 -o addr show ppp$1 2>/dev/null | grep -o 'inet 192\\.168\\.8\\.[0-9]*' | cut -d' ' -f2
}
# UNIT: A answers a ping sent out of pppUNIT (three tries: a TCG guest on a busy host stalls)
reaches() { for try in 1 2 3; do ${BB} ping -c 1 -W 2 -I ppp$1 192.168.8.1 > /tmp/ping$1.out 2>&1 && return 0; done; return 1; }
echo "LAB:T calls-start $(cut -d' ' -f1 /proc/uptime)"
# two callers at once: ttyS2 and ttyS3 are two connections to A's listener, each its own call
dial ttyS2 5; D5=$!
dial ttyS3 6; D6=$!
a5=$(address 5 $D5); a6=$(address 6 $D6)
echo "LAB:PAIR ppp5 $a5 ppp6 $a6"
echo "LAB:T pair-up $(cut -d' ' -f1 /proc/uptime)"
reaches 5 & P5=$!
reaches 6 & P6=$!
for u in 5 6; do eval "p=\\$P$u"; if wait $p; then echo "LAB:PAIR-PING ppp$u OK"; else echo "LAB:PAIR-PING ppp$u FAIL"; sed 's/^/LAB:LOG /' /tmp/call$u.log; fi; done
# through A's gateway to a host beyond it: this host's HTTP server, which only A's guestfwd reaches
ip route add 10.0.2.100/32 dev ppp5
if curl -sS --max-time 10 --retry 3 --retry-connrefused -o /tmp/payload http://10.0.2.100:8080/payload 2> /tmp/curl.err; then echo "LAB:FETCH $(cat /tmp/payload)"; else echo "LAB:FETCH-FAIL $(cat /tmp/curl.err)"; fi
kill $D6; wait $D6; echo "LAB:PAIR-HUNG-UP $? $(cut -d' ' -f1 /proc/uptime)"
# ${REDIALS} calls in a row on ttyS2, the same connection to A's listener throughout
for n in $(seq ${REDIALS}); do
  [ $n -gt 1 ] && { dial ttyS2 5; D5=$!; a5=$(address 5 $D5); echo "LAB:T call $n up $(cut -d' ' -f1 /proc/uptime) $(grep -a 'LAB:T connected' /tmp/call5.log | tail -n 1) AT sent $(grep -ac 'send (AT^M)' /tmp/call5.log) times"; }
  if [ -n "$a5" ] && reaches 5; then echo "LAB:CALL $n PING-OK $a5 $(cut -d' ' -f1 /proc/uptime)"; else echo "LAB:CALL $n FAIL"; sed 's/^/LAB:LOG /' /tmp/call5.log; fi
  if [ $n -lt ${REDIALS} ]; then
    # pppd's own hang-up: LCP terminate; A's pppd ends and A's modem says NO CARRIER
    kill $D5; wait $D5; echo "LAB:CALL $n HUNG-UP $? $(cut -d' ' -f1 /proc/uptime)"
  else
    # the modem's hang-up: a second of silence, +++, a second of silence, then ATH
    kill -9 $D5; wait $D5
    chat -v -s -t 5 '' '\\d\\d+++\\c' OK ATH OK < /dev/ttyS2 > /dev/ttyS2 2>/tmp/chat.log && echo "LAB:CALL $n ATH-OK" || { echo "LAB:CALL $n ATH-FAIL"; sed 's/^/LAB:LOG /' /tmp/chat.log; }
  fi
done
echo "LAB:T calls-end $(cut -d' ' -f1 /proc/uptime)"`;
  const dial = `chat -v -s TIMEOUT 3 '' AT OK-AT-OK-AT-OK-AT-OK-AT-OK-AT-OK-AT-OK-AT-OK-AT-OK-AT-OK ATDT5551234 CONNECT ''`;
  // The guest's /etc is an overlay on the host's live /etc: start from empty secrets files so a block
  // another program writes into the host's files meanwhile cannot change which secret pppd picks.
  const ownSecrets = ': > /etc/ppp/pap-secrets; : > /etc/ppp/chap-secrets';
  const server = `${prologue()}
${ownSecrets}
$LAPLINK serve lab/profiles/server-dialup.yaml > /tmp/sup.log 2>&1 &
SUP=$!
PPPD=$SUP
${waitIp('192.168.7.1', 120).replace('/tmp/pppd.log', '/tmp/sup.log')}
# the callers listener starts once the dial-up link's files are written (both merge pap-secrets),
# and its Node start overlaps the pings below
ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 || echo "LAB:FAIL eth0"
$LAPLINK serve lab/profiles/server-callers.yaml > /tmp/callers.log 2>&1 &
CALLERS=$!
{
${callersGateway}
} &
GATEWAY=$!
{
${watchCallers}
} &
WATCH=$!
grep -E '^connect ' /etc/ppp/peers/lab-server-dialup | sed 's/^/LAB:PEERS /'
${ping('192.168.7.2', 5)}
grep -a 'modem: ' /tmp/sup.log | sed 's/^/LAB:MODEM /'
${statusLine('lab-server-dialup')}
$LAPLINK status | sed 's/^/LAB:TABLE /'
kill $SUP 2>/dev/null; wait $SUP; echo "LAB:SUPERVISOR-EXIT $?"
wait $GATEWAY
${endCallers}
`;
  const client = `${prologue()}
${ownSecrets}
$LAPLINK generate lab/profiles/client.yaml > /tmp/gen.out 2>&1 && echo "LAB:GENERATED" || { echo "LAB:FAIL generate"; cat /tmp/gen.out; }
pppd call lab-client nodetach persist holdoff 1 maxfail 0 connect "${dial}" > /tmp/pppd.log 2>&1 &
PPPD=$!
${waitIp('192.168.7.2', 120)}
${ping('192.168.7.1', 3)}
grep -aE 'CONNECT|local  IP|remote IP' /tmp/pppd.log | sed 's/^/LAB:PPPD /'
${calls}
# the server hangs up the cable's link after its pings (long before the calls end): bounded wait
# for that (pppd's persist keeps pppd itself running after the hang-up: the address going is the sign)
i=0; while ip -4 addr show ppp0 2>/dev/null | grep -q 'inet 192.168.7.2 ' && [ $i -lt 100 ]; do i=$((i+1)); ${BB} sleep 0.2; done
kill $PPPD 2>/dev/null; wait $PPPD; echo "LAB:PPPD-EXIT $?"
`;
  const running = (n: number) => new RegExp(`LAB:CALLER ${n} \\d+ "callers":\\[\\{(?=.*"ip":"192\\.168\\.8\\.1[0-2]")(?=.*"state":"running")(?=.*"dialled":"5552323")`);
  return {
    id: '09-dialup',
    title: 'the peer dials: pppd + chat ATDT5551234 in B, laplink serve of a peer: dialup profile answers as a modem in A; B\'s COM ports call A\'s listener over TCP: two at once, a fetch through A\'s gateway, ten redials',
    join: 'bridge',
    // the cable's link, then eleven calls over TCP with Node and pppd starts in TCG guests
    guestTimeoutMs: 240_000,
    hostService: async () => (served = await payloadServer(token)),
    a: { name: 'A-modem', script: server, cable: true, hostfwdPort: 2323, guestfwdPort: 8080 },
    b: { name: 'B-dialer', script: client, cable: true, dialsA: 2 },
    expectA: [
      /LAB:PEERS connect ".*laplink\.js modem answer --speed 115200"/,
      /LAB:MODEM .*modem: <- ATDT5551234/,
      /LAB:MODEM .*modem: -> CONNECT 115200/,
      /LAB:UP 192\.168\.7\.1 192\.168\.7\.2/,
      /LAB:PING-OK 192\.168\.7\.2 [1-9]\d* packets received/,
      /LAB:STATUS (?=.*"state": *"up")(?=.*"dialled": *"5551234")(?=.*"peerUser": *"labuser")/,
      /LAB:TABLE lab-server-dialup: .*peer dialled 5551234/,
      /LAB:CALLERS-NFT 1/, /LAB:CALLERS-FORWARD 1/,
      /LAB:CALLERS-AT-ONCE "ip":"(192\.168\.8\.1[0-2])" (?!"ip":"\1")"ip":"192\.168\.8\.1[0-2]"/,
      ...Array.from({ length: CALLS }, (_, k) => running(k + 1)),
      /LAB:CALLERS .*call over: pppd ended the link; the modem is in command mode/,
      /LAB:CALLERS .*call over: the caller hung up with ATH; the modem is in command mode/,
      /LAB:CALLERS-NFT counter packets [1-9]\d* bytes [1-9]\d*/,
      /LAB:CALLERS-EXIT 0/,
    ],
    expectB: [/LAB:UP 192\.168\.7\.2 192\.168\.7\.1/, /LAB:PING-OK 192\.168\.7\.1 [1-9]\d* packets received/, /LAB:PPPD .*CONNECT/,
      /LAB:PAIR ppp5 (192\.168\.8\.1[0-2]) ppp6 (?!\1)192\.168\.8\.1[0-2]\s*$/m, /LAB:PAIR-PING ppp5 OK/, /LAB:PAIR-PING ppp6 OK/,
      new RegExp(`LAB:FETCH ${token}`), /LAB:PAIR-HUNG-UP/,
      ...Array.from({ length: REDIALS }, (_, k) => new RegExp(`LAB:CALL ${k + 1} PING-OK`)),
      ...Array.from({ length: REDIALS - 1 }, (_, k) => new RegExp(`LAB:CALL ${k + 1} HUNG-UP`)),
      new RegExp(`LAB:CALL ${REDIALS} ATH-OK`)],
    check: (_consoleB, consoleA) => {
      if (!served || served.requests() === 0) return 'the host HTTP server saw no request: the file did not come through A\'s gateway';
      return sameConnection(consoleA);
    },
    runsOn: 'laplink serve / status (A, peer: dialup: generated connect = laplink modem answer; and a listen: callers profile with a gateway, behind qemu hostfwd), bridge serve/connect (product); pppd + chat(8) ATDT and +++ATH in B (the dialer, on purpose: a real one; its third and fourth COM ports qemu TCP clients); nft, curl (real tools)',
  };
}

/**
 * The ten redials came on one connection (one caller's remote address and port) and the call
 * beside the first on another: read from A's state file as each call's pppd appeared.
 */
function sameConnection(consoleA: string): string | undefined {
  const remotes: string[] = [];
  for (const m of consoleA.matchAll(/LAB:CALLER \d+ (\d+) "callers":(.*)/g)) {
    const call = m[2]!.split('},{').find((c) => c.includes(`"pppdPid":${m[1]}`));
    const remote = call && /"remote":"([^"]+)"/.exec(call)?.[1];
    if (!remote) return `no caller with pppd ${m[1]} in A's state file: ${m[2]}`;
    remotes.push(remote);
  }
  const counts = new Map<string, number>();
  for (const r of remotes) counts.set(r, (counts.get(r) ?? 0) + 1);
  const most = Math.max(0, ...counts.values());
  if (most < REDIALS || counts.size !== 2) return `calls by connection: ${JSON.stringify(Object.fromEntries(counts))}; want ${REDIALS} on one connection and 1 on another`;
  return undefined;
}
