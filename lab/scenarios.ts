import { pacedLinkScenario } from './scenario-link.js';
import { windowsScenarios } from './scenarios-windows.js';
import { dialupScenario } from './scenario-dialup.js';
import { ipv6Scenario } from './scenario-ipv6.js';
import { twoCablesScenario } from './scenario-two-cables.js';
import { BB, type HostJoin, ping, prologue, type Scenario, statusLine, waitDown, waitIp } from './scenario-kit.js';

/**
 * Scenario 2: Windows DCC interop under the supervisor. Both ends from the `peer: windows`
 * profiles: the generated connect line runs our engine (`laplink chat` with the dcc-host /
 * dcc-guest chat file) unless the side is 'real', whose profile gets `handshake: { engine: chat }`
 * so the generated connect line runs chat(8) instead. The hop speaks `join`'s protocol.
 */
export function dccScenario(serverChat: 'real' | 'laplink', clientChat: 'real' | 'laplink', join: HostJoin = 'bridge'): Scenario {
  const profile = (who: 'server' | 'client', how: 'real' | 'laplink') => how === 'real'
    ? `{ cat lab/profiles/${who}-windows.yaml; echo 'handshake: { engine: chat }'; } > /tmp/${who}-windows.yaml`
    : `cp lab/profiles/${who}-windows.yaml /tmp/${who}-windows.yaml`;
  const side = (who: 'server' | 'client', how: 'real' | 'laplink', cmd: string, ip: string, peer: string, pings: number) => `${prologue()}
${profile(who, how)}
$LAPLINK ${cmd} /tmp/${who}-windows.yaml > /tmp/sup.log 2>&1 &
SUP=$!
PPPD=$SUP
${waitIp(ip, 90).replace('/tmp/pppd.log', '/tmp/sup.log')}
grep -E '^connect ' /etc/ppp/peers/lab-${who}-windows | sed 's/^/LAB:PEERS /'
${ping(peer, pings)}
grep -aE 'CLIENT|PAP peer authentication|local  IP|remote IP' /tmp/sup.log | sed 's/^/LAB:PPPD /'
$LAPLINK status | sed 's/^/LAB:TABLE /'
${who === 'server' ? '' : waitDown(10)}
kill $SUP 2>/dev/null; wait $SUP; echo "LAB:SUPERVISOR-EXIT $?"
`;
  const label = (h: string) => (h === 'real' ? 'chat(8)' : 'laplink chat');
  const engineLine = (h: string) => h === 'real' ? /LAB:PEERS connect ".*\/usr\/sbin\/chat / : new RegExp(`LAB:PEERS connect ".*laplink\\.js chat `);
  return {
    id: `02-dcc-${serverChat}-${clientChat}${join === 'bridge' ? '' : `-${join.replace('bridge-', '')}`}`,
    title: `Windows DCC under serve/connect: host side ${label(serverChat)}, guest side ${label(clientChat)}${join === 'bridge' ? '' : ` (${join} hop)`}`,
    join,
    a: { name: 'A-dcc-host', script: side('server', serverChat, 'serve', '192.168.7.1', '192.168.7.2', 5), cable: true },
    b: { name: 'B-dcc-guest', script: side('client', clientChat, 'connect --persist', '192.168.7.2', '192.168.7.1', 3), cable: true },
    // the handshake bytes, from the connect program's `-s` log that pppd passes on to the supervisor
    expectA: [engineLine(serverChat), /LAB:PPPD .*send \(CLIENTSERVER\)/, /LAB:UP 192\.168\.7\.1 192\.168\.7\.2/, /LAB:PING-OK 192\.168\.7\.2 [1-9]\d* packets received/, /LAB:TABLE .*lab-server-windows.*up/],
    expectB: [engineLine(clientChat), /LAB:PPPD .*send \(CLIENT\)/, /LAB:UP 192\.168\.7\.2 192\.168\.7\.1/, /LAB:PING-OK 192\.168\.7\.1 [1-9]\d* packets received/, /LAB:TABLE .*lab-client-windows.*up/],
    runsOn: `laplink serve / connect --persist / status, generate (peer: windows), ${label(serverChat)} / ${label(clientChat)} as the generated connect programs, bridge serve/connect${join === 'bridge' ? '' : ` --protocol ${join.replace('bridge-', '')}`} (all product${serverChat === 'real' || clientChat === 'real' ? '; chat(8) on purpose, for interop' : ''})`,
  };
}

/**
 * Scenario 3: cut cable under the supervisors. The host kills the bridge while the link is up;
 * LCP echo makes both pppds exit 16; `laplink serve` / `connect --persist` respawn them; the host
 * restarts the bridge; the link comes back and `status --json` shows the restart and exit 16.
 */
export function cutCableScenario(): Scenario {
  const side = (cmd: string, profile: string, link: string, ip: string, peer: string) => `${prologue()}
$LAPLINK ${cmd} lab/profiles/${profile}.yaml > /tmp/sup.log 2>&1 &
SUP=$!
PPPD=$SUP
${waitIp(ip, 90).replace('/tmp/pppd.log', '/tmp/sup.log').replace(/LAB:UP /, 'LAB:UP1 ').replace(/LAB:NOT-UP/, 'LAB:NOT-UP1')}
${waitDown(60)}
[ "$(cat /sys/class/net/ppp0/ifindex 2>/dev/null)" = "$idx" ] && echo "LAB:STILL-UP" || echo "LAB:DOWN"
${waitIp(ip, 90).replace('/tmp/pppd.log', '/tmp/sup.log').replace(/LAB:UP /, 'LAB:UP2 ').replace(/LAB:NOT-UP/, 'LAB:NOT-UP2')}
${ping(peer, 2)}
${statusLine(link)}
${cmd === 'serve' ? '' : waitDown(10)}
kill $SUP 2>/dev/null; wait $SUP; echo "LAB:SUPERVISOR-EXIT $?"
`;
  const restarted = /LAB:STATUS (?=.*"state": *"up")(?=.*"restarts": *[1-9])(?=.*"lastExit": *\{ *"code": *16,)/;
  return {
    id: '03-cut-cable',
    title: 'cut cable under serve/connect --persist: bridge killed, pppd exits 16, respawned, link back, status shows it',
    join: 'bridge',
    a: { name: 'A-serve', script: side('serve', 'server', 'lab-server', '192.168.7.1', '192.168.7.2'), cable: true },
    b: { name: 'B-connect', script: side('connect --persist', 'client', 'lab-client', '192.168.7.2', '192.168.7.1'), cable: true },
    host: async (ctl) => {
      await Promise.all([ctl.waitA(/LAB:UP1 /, 120_000), ctl.waitB(/LAB:UP1 /, 120_000)]);
      await ctl.cut();
      await Promise.all([ctl.waitA(/LAB:DOWN/, 60_000), ctl.waitB(/LAB:DOWN/, 60_000)]);
      await ctl.reconnect();
    },
    expectA: [/LAB:UP1 192\.168\.7\.1/, /LAB:UP2 192\.168\.7\.1/, /LAB:PING-OK 192\.168\.7\.2/, restarted],
    expectB: [/LAB:UP1 192\.168\.7\.2/, /LAB:UP2 192\.168\.7\.2/, /LAB:PING-OK 192\.168\.7\.1/, restarted],
    runsOn: 'laplink serve / connect --persist / status --json, generate, bridge serve/connect killed and restarted (all product)',
  };
}

/**
 * Scenario 4: the client's password is wrong, under the supervisors. The server's pppd exits 11,
 * the client's 19; each supervisor backs off (no hot loop): after the first failure the guests watch
 * a fixed window and `status --json` must show the auth failure as the last exit with few restarts.
 */
export function wrongPasswordScenario(): Scenario {
  const WINDOW = 8;
  const side = (cmd: string, profile: string, link: string, code: number) => `${prologue()}
${profile === 'client' ? `sed 's/password: labpass/password: not-the-password/' lab/profiles/client.yaml > /tmp/profile.yaml` : `cp lab/profiles/${profile}.yaml /tmp/profile.yaml`}
$LAPLINK ${cmd} /tmp/profile.yaml > /tmp/sup.log 2>&1 &
SUP=$!
end=$(( $(date +%s) + 120 )); until $LAPLINK status ${link} --json 2>/dev/null | grep -q '"code": *${code}'; do [ $(date +%s) -gt $end ] && break; ${BB} sleep 1; done
${statusLine(link, 'FIRST')}
# observation window: a hot loop would restart many times in it, back-off only a few
${BB} sleep ${WINDOW}
${statusLine(link)}
grep -a 'PAP peer authentication' /tmp/sup.log | head -n 1 | sed 's/^/LAB:PPPD /'
kill $SUP 2>/dev/null; wait $SUP; echo "LAB:SUPERVISOR-EXIT $?"
`;
  // restarts 1..9 in the window: backing off, not looping (each failed attempt costs ~1-2 s here)
  const backedOff = (code: number) => new RegExp(`LAB:STATUS (?=.*"restarts": *[1-9][,}\\s])(?=.*"lastExit": *\\{ *"code": *${code},)`);
  return {
    id: '04-wrong-password',
    title: 'wrong password under serve/connect --persist: exits 11/19 reported, back-off, no hot loop',
    join: 'bridge',
    a: { name: 'A-serve', script: side('serve', 'server', 'lab-server', 11), cable: true },
    b: { name: 'B-connect', script: side('connect --persist', 'client', 'lab-client', 19), cable: true },
    expectA: [/LAB:FIRST .*"code": *11,.*"meaning": *"peer failed to authenticate"/, backedOff(11), /LAB:PPPD .*PAP peer authentication failed for labuser/],
    expectB: [/LAB:FIRST .*"code": *19,.*"meaning": *"authentication to peer failed"/, backedOff(19)],
    runsOn: 'laplink serve / connect --persist (back-off) / status --json, generate, bridge serve/connect (all product)',
  };
}

/**
 * Scenario 5: guest B has no serial port at all. Its generated peers file runs pppd over
 * \`pty "laplink bridge stdio 10.0.2.100:7000 --tls-pin … --tls-cert … --tls-key …"\`: PPP over TLS,
 * each end's key checked by the other (the host's bridge lets in only the guest's certificate, the
 * guest pins the host's); qemu's user networking (restrict=on) forwards only that address to the
 * host's loopback port where guest A's line is served. Node's slow start in the TCG guest is
 * harmless: what pppd writes before the session is up waits in the pty and the paused stdin
 * stream, and is forwarded once connected.
 */
export function bridgeProfileScenario(): Scenario {

  const client = `${prologue()}
ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 && echo "LAB:NET"
# the profile plus its bridgeTls block: the keys the host made for this run, beside this script
tls=$(dirname "$0")/tls
{ cat lab/profiles/client-bridge.yaml; printf 'bridgeTls:\\n  pin: [%s]\\n  cert: %s\\n  key: %s\\n' "$(cat $tls/host.pin)" "$tls/lab-client.crt" "$tls/lab-client.key"; } > /tmp/client-bridge.yaml
(sleep 8; echo hi-from-guest) | timeout 30 $LAPLINK bridge stdio 10.0.2.100:7000 --tls-pin $(cat $tls/host.pin) --tls-cert $tls/lab-client.crt --tls-key $tls/lab-client.key 2>&1 | sed 's/^/LAB:PROBE /'
$LAPLINK connect --persist /tmp/client-bridge.yaml > /tmp/sup.log 2>&1 &
SUP=$!
PPPD=$SUP
${waitIp('192.168.7.2', 90).replace('/tmp/pppd.log', '/tmp/sup.log')}
grep '^pty' /etc/ppp/peers/lab-client-bridge | sed 's/^/LAB:PEERS /'
${ping('192.168.7.1', 3)}
${statusLine('lab-client-bridge')}
# the server pings longer and then hangs up: leaving first would cut its pings short
${waitDown(15)}
kill $SUP 2>/dev/null; wait $SUP; echo "LAB:SUPERVISOR-EXIT $?"
`;
  const serverScript = `${prologue()}
$LAPLINK serve lab/profiles/server.yaml > /tmp/sup.log 2>&1 &
SUP=$!
PPPD=$SUP
${waitIp('192.168.7.1', 120).replace('/tmp/pppd.log', '/tmp/sup.log')}
${ping('192.168.7.2', 5)}
grep -a 'PAP peer authentication' /tmp/sup.log | sed 's/^/LAB:PPPD /'
kill $SUP 2>/dev/null; wait $SUP; echo "LAB:SUPERVISOR-EXIT $?"
`;

  return {
    id: '05-bridge-profile',
    title: 'bridge: profile over TLS, pppd pty = laplink bridge stdio (pinned host key, client certificate) via restricted guestfwd, no serial port',
    join: 'tcp',
    joinTls: true,
    a: { name: 'A-serve', script: serverScript, cable: true },
    b: { name: 'B-bridge-client', script: client, cable: false, guestfwdPort: 7000 },
    expectA: [/LAB:UP 192\.168\.7\.1 192\.168\.7\.2/, /LAB:PING-OK 192\.168\.7\.2 [1-9]\d* packets received/, /LAB:PPPD .*PAP peer authentication succeeded for labuser/],
    expectB: [/LAB:NET/, /LAB:PEERS pty ".*bridge stdio 10\.0\.2\.100:7000 --tls-pin sha256:[0-9a-f]{64} --tls-cert \S+\/tls\/lab-client\.crt --tls-key \S+\/tls\/lab-client\.key"/, /LAB:UP 192\.168\.7\.2 192\.168\.7\.1/, /LAB:PING-OK 192\.168\.7\.1 [1-9]\d* packets received/],
    runsOn: 'laplink serve (A), laplink connect with the generated pty "laplink bridge stdio --tls-*" (B), generate (bridge: profile, bridgeTls), bridge keygen and bridge serve --tls-* on the host (all product)',
  };
}

/** `status --json` of an up link on a real (emulated 16550) UART: its line's counters counted bytes, and its queue is known. */
const LINE_AND_QUEUE = /LAB:STATUS (?=.*"line": *\{ *"device": *"\/dev\/ttyS0", *"speed": *115200, *"counters": *\{[^}]*"rx": *[1-9]\d*, *"tx": *[1-9]\d*)(?=.*"queue": *\{ *"managedBy": *"cake")/;

/**
 * Scenario 1 on the product end to end: \`laplink serve\` in guest A, \`laplink connect --persist\`
 * in guest B (each generates the link files itself), then \`laplink status --json\` in each.
 */
export function supervisedScenario(): Scenario {
  const side = (cmd: string, profile: string, link: string, ip: string, peer: string, pings: number) => `${prologue()}
PPPD=
$LAPLINK ${cmd} lab/profiles/${profile}.yaml > /tmp/sup.log 2>&1 &
SUP=$!
PPPD=$SUP
${waitIp(ip, 90).replace('/tmp/pppd.log', '/tmp/sup.log')}
${ping(peer, pings)}
$LAPLINK status ${link} --json > /tmp/status.json 2>&1
echo "LAB:STATUS $(tr -d '\n' < /tmp/status.json)"
${cmd === 'serve' ? '' : `i=0; while ip link show ppp0 > /dev/null 2>&1 && [ $i -lt 50 ]; do i=$((i+1)); ${BB} sleep 0.2; done`}
kill $SUP 2>/dev/null; wait $SUP; echo "LAB:SUPERVISOR-EXIT $?"
`;
  return {
    id: '01-howto-supervised',
    title: 'HOWTO link under laplink serve / connect --persist, status --json in each guest',
    join: 'bridge',
    a: { name: 'A-serve', script: side('serve', 'server', 'lab-server', '192.168.7.1', '192.168.7.2', 5), cable: true },
    b: { name: 'B-connect', script: side('connect --persist', 'client', 'lab-client', '192.168.7.2', '192.168.7.1', 3), cable: true },
    expectA: [/LAB:UP 192\.168\.7\.1 192\.168\.7\.2/, /LAB:PING-OK 192\.168\.7\.2 [1-9]/,
      /LAB:STATUS (?=.*"state": *"up")(?=.*"iface": *"ppp0")(?=.*"peerUser": *"labuser")(?=.*"localIp": *"192\.168\.7\.1")(?=.*"remoteIp": *"192\.168\.7\.2")/,
      // the UART's own counters (TIOCGICOUNT on the guest's 16550) moved while PPP ran, and tc
      // reports the queue the ip-up hook put on ppp0: status reads both from the kernel
      LINE_AND_QUEUE],
    expectB: [/LAB:UP 192\.168\.7\.2 192\.168\.7\.1/, /LAB:PING-OK 192\.168\.7\.1 [1-9]/,
      /LAB:STATUS (?=.*"state": *"up")(?=.*"iface": *"ppp0")(?=.*"localIp": *"192\.168\.7\.2")(?=.*"remoteIp": *"192\.168\.7\.1")/,
      LINE_AND_QUEUE],
    runsOn: 'laplink serve, connect --persist, status --json, generate, bridge serve/connect (all product)',
  };
}

export function allScenarios(): Scenario[] {
  return [
    supervisedScenario(),
    dccScenario('laplink', 'laplink'),
    dccScenario('laplink', 'real', 'bridge-rfc2217'),
    dccScenario('real', 'laplink', 'bridge-telnet'),
    cutCableScenario(),
    wrongPasswordScenario(),
    bridgeProfileScenario(),
    pacedLinkScenario(),
    ...windowsScenarios(),
    dialupScenario(),
    ipv6Scenario(),
    twoCablesScenario(),
  ];
}

