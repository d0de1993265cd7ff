import { ping, prologue, statusLine, waitIp, type Scenario } from './scenarios.js';

const BB = '/usr/bin/busybox';

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
 * B's second serial port (ttyS2) is a qemu TCP client of that host port, as an emulator's COM port
 * is. While the cable's link is still up for A's pings, B dials through it three times in a row
 * with pppd + chat ATDT, each call up, pinged and hung up: twice by pppd (LCP terminate; A says NO CARRIER), the
 * last time by the modem (`+++`, `ATH`, with pppd gone without a word). A's state file lists
 * each call's pppd while it is up.
 */
export function dialupScenario(): Scenario {
  // in the background from the start of the callers listener: B calls while A is still busy with the cable's link
  const watchCallers = `# A's state file while B calls: each call's pppd shows under the link's callers as it comes up
STATE=/run/laplink/lab-callers.json; seen=' '; n=0; end=$(( $(date +%s) + 120 ))
while [ $n -lt 3 ] && [ $(date +%s) -le $end ] && kill -0 $CALLERS 2>/dev/null; do
  pid=$(tr -d ' \n' < $STATE 2>/dev/null | grep -o '"state":"running"[^}]*"pppdPid":[0-9]*' | grep -o '[0-9]*$')
  case "$seen" in *" $pid "*) ;; *) [ -n "$pid" ] && { seen="$seen$pid "; n=$((n+1)); echo "LAB:CALLER $n $(tr -d ' \n' < $STATE | grep -o '"callers":.*')"; } ;; esac
  ${BB} sleep 0.2
done`;
  const endCallers = `wait $WATCH
end=$(( $(date +%s) + 30 )); until [ $(grep -c 'call over' /tmp/callers.log) -ge 3 ] || [ $(date +%s) -gt $end ]; do ${BB} sleep 0.2; done
grep -aE 'call over|hung up|refused|busy' /tmp/callers.log | sed 's/^/LAB:CALLERS /'
kill $CALLERS 2>/dev/null; wait $CALLERS; echo "LAB:CALLERS-EXIT $?"`;
  // B's ttyS2 is a TCP client of A's listener; its first AT may go out while qemu reconnects, so
  // resend, and redial (persist) while A's listener is not up yet: B's first call can come before
  // A's Node has started it on a loaded host
  const dialCaller = `chat -v -s TIMEOUT 3 '' AT OK-AT-OK-AT-OK-AT-OK-AT-OK ATDT5552323 CONNECT ''`;
  // while the cable's link (ppp0) is still up for A's pings: a second link at once, on its own unit
  const threeCalls = `# three calls in a row on ttyS2, the same connection to A's callers listener throughout
echo "LAB:T calls-start $(cut -d' ' -f1 /proc/uptime)"
for n in 1 2 3; do
  pppd /dev/ttyS2 115200 local nocrtscts noccp noauth noipdefault nodetach persist holdoff 1 maxfail 0 unit 5 user caller password callerpass lcp-restart 1 connect "${dialCaller}" > /tmp/call.log 2>&1 &
  DIAL=$!
  end=$(( $(date +%s) + 60 )); until ip -4 addr show ppp5 2>/dev/null | grep -q 'inet 192.168.8.10 '; do [ $(date +%s) -gt $end ] && break; kill -0 $DIAL 2>/dev/null || break; ${BB} sleep 0.2; done
  ok=; for try in 1 2 3; do ${BB} ping -c 1 -W 2 192.168.8.1 > /tmp/ping.out 2>&1 && { ok=1; break; }; done
  if [ -n "$ok" ]; then echo "LAB:CALL $n PING-OK $(cut -d' ' -f1 /proc/uptime)"; else echo "LAB:CALL $n FAIL"; sed 's/^/LAB:LOG /' /tmp/call.log; fi
  if [ $n -lt 3 ]; then
    # pppd's own hang-up: LCP terminate; A's pppd ends and A's modem says NO CARRIER
    kill $DIAL; wait $DIAL; echo "LAB:CALL $n HUNG-UP $?"
  else
    # the modem's hang-up: a second of silence, +++, a second of silence, then ATH
    kill -9 $DIAL; wait $DIAL
    chat -v -s -t 5 '' '\\d\\d+++\\c' OK ATH OK < /dev/ttyS2 > /dev/ttyS2 2>/tmp/chat.log && echo "LAB:CALL 3 ATH-OK" || { echo "LAB:CALL 3 ATH-FAIL"; sed 's/^/LAB:LOG /' /tmp/chat.log; }
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
${watchCallers}
} &
WATCH=$!
grep -E '^connect ' /etc/ppp/peers/lab-server-dialup | sed 's/^/LAB:PEERS /'
${ping('192.168.7.2', 5)}
grep -a 'modem: ' /tmp/sup.log | sed 's/^/LAB:MODEM /'
${statusLine('lab-server-dialup')}
$LAPLINK status | sed 's/^/LAB:TABLE /'
kill $SUP 2>/dev/null; wait $SUP; echo "LAB:SUPERVISOR-EXIT $?"
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
${threeCalls}
# the server pings longer and then hangs up: leaving first would cut its pings short (pppd's persist
# keeps pppd itself running after the hang-up: the link's address going is the sign)
i=0; while ip -4 addr show ppp0 2>/dev/null | grep -q 'inet 192.168.7.2 ' && [ $i -lt 100 ]; do i=$((i+1)); ${BB} sleep 0.2; done
kill $PPPD 2>/dev/null; wait $PPPD; echo "LAB:PPPD-EXIT $?"
`;
  return {
    id: '09-dialup',
    title: 'the peer dials: pppd + chat ATDT5551234 in B, laplink serve of a peer: dialup profile answers as a modem in A',
    join: 'bridge',
    a: { name: 'A-modem', script: server, cable: true, hostfwdPort: 2323 },
    b: { name: 'B-dialer', script: client, cable: true, dialsA: true },
    expectA: [
      /LAB:PEERS connect ".*laplink\.js modem answer --speed 115200"/,
      /LAB:MODEM .*modem: <- ATDT5551234/,
      /LAB:MODEM .*modem: -> CONNECT 115200/,
      /LAB:UP 192\.168\.7\.1 192\.168\.7\.2/,
      /LAB:PING-OK 192\.168\.7\.2 [1-9]\d* packets received/,
      /LAB:STATUS (?=.*"state": *"up")(?=.*"dialled": *"5551234")(?=.*"peerUser": *"labuser")/,
      /LAB:TABLE lab-server-dialup: .*peer dialled 5551234/,
      ...[1, 2, 3].map((n) => new RegExp(`LAB:CALLER ${n} "callers":\\[\\{(?=.*"ip":"192\\.168\\.8\\.10")(?=.*"state":"running")(?=.*"dialled":"5552323")`)),
      /LAB:CALLERS .*call over: pppd exited with status \d+; the modem is in command mode/,
      /LAB:CALLERS .*call over: the caller hung up with ATH; the modem is in command mode/,
      /LAB:CALLERS-EXIT 0/,
    ],
    expectB: [/LAB:UP 192\.168\.7\.2 192\.168\.7\.1/, /LAB:PING-OK 192\.168\.7\.1 [1-9]\d* packets received/, /LAB:PPPD .*CONNECT/,
      /LAB:CALL 1 PING-OK/, /LAB:CALL 1 HUNG-UP/, /LAB:CALL 2 PING-OK/, /LAB:CALL 2 HUNG-UP/, /LAB:CALL 3 PING-OK/, /LAB:CALL 3 ATH-OK/],
    runsOn: 'laplink serve / status (A, peer: dialup: generated connect = laplink modem answer; and a listen: callers profile behind qemu hostfwd), bridge serve/connect (product); pppd + chat(8) ATDT and +++ATH in B (the dialer, on purpose: a real one; its second COM port a qemu TCP client)',
  };
}
