import { ping, prologue, statusLine, waitIp, type Scenario } from './scenarios.js';

const BB = '/usr/bin/busybox';

/**
 * Scenario 6: the peer dials. Guest B is a plain Linux dialer: real pppd with chat(8) as its connect
 * program sending ATDT5551234, as any dial-up client does. Guest A runs `laplink serve` of a
 * `peer: dialup` profile, whose generated connect line is `laplink modem answer`: it answers the
 * AT commands as a Hayes modem, says CONNECT 115200, and pppd starts PPP. The dial must show in
 * A's `status --json` (the modem's stderr reaches the supervisor through pppd).
 *
 * B resends AT every 3 s (chat sub-expects) because its first AT can reach A's line before A's pppd
 * has opened it (bytes sent before the peer opens its tty are lost: pppd flushes on open), and redials
 * (`persist`) when a whole attempt finds no modem yet, as dialers' init retries and redial do: two
 * Node starts in a loaded TCG guest can take longer than one attempt.
 */
export function dialupScenario(): Scenario {
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
grep -E '^connect ' /etc/ppp/peers/lab-server-dialup | sed 's/^/LAB:PEERS /'
${ping('192.168.7.2', 5)}
grep -a 'modem: ' /tmp/sup.log | sed 's/^/LAB:MODEM /'
${statusLine('lab-server-dialup')}
$LAPLINK status | sed 's/^/LAB:TABLE /'
kill $SUP 2>/dev/null; wait $SUP; echo "LAB:SUPERVISOR-EXIT $?"
`;
  const client = `${prologue()}
${ownSecrets}
$LAPLINK generate lab/profiles/client.yaml > /tmp/gen.out 2>&1 && echo "LAB:GENERATED" || { echo "LAB:FAIL generate"; cat /tmp/gen.out; }
pppd call lab-client nodetach persist holdoff 1 maxfail 0 connect "${dial}" > /tmp/pppd.log 2>&1 &
PPPD=$!
${waitIp('192.168.7.2', 120)}
${ping('192.168.7.1', 3)}
grep -aE 'CONNECT|local  IP|remote IP' /tmp/pppd.log | sed 's/^/LAB:PPPD /'
# the server pings longer and then hangs up: leaving first would cut its pings short
i=0; while kill -0 $PPPD 2>/dev/null && [ $i -lt 100 ]; do i=$((i+1)); ${BB} sleep 0.2; done
kill $PPPD 2>/dev/null; wait $PPPD; echo "LAB:PPPD-EXIT $?"
`;
  return {
    id: '6-dialup',
    title: 'the peer dials: pppd + chat ATDT5551234 in B, laplink serve of a peer: dialup profile answers as a modem in A',
    join: 'bridge',
    a: { name: 'A-modem', script: server, cable: true },
    b: { name: 'B-dialer', script: client, cable: true },
    expectA: [
      /LAB:PEERS connect ".*laplink\.js modem answer --speed 115200"/,
      /LAB:MODEM .*modem: <- ATDT5551234/,
      /LAB:MODEM .*modem: -> CONNECT 115200/,
      /LAB:UP 192\.168\.7\.1 192\.168\.7\.2/,
      /LAB:PING-OK 192\.168\.7\.2 [1-9]\d* packets received/,
      /LAB:STATUS (?=.*"state": *"up")(?=.*"dialled": *"5551234")(?=.*"peerUser": *"labuser")/,
      /LAB:TABLE lab-server-dialup: .*peer dialled 5551234/,
    ],
    expectB: [/LAB:UP 192\.168\.7\.2 192\.168\.7\.1/, /LAB:PING-OK 192\.168\.7\.1 [1-9]\d* packets received/, /LAB:PPPD .*CONNECT/],
    runsOn: 'laplink serve / status (A, peer: dialup: generated connect = laplink modem answer), bridge serve/connect (product); pppd + chat(8) ATDT in B (the dialer, on purpose: a real one)',
  };
}
