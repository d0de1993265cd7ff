import { randomBytes } from 'node:crypto';
import { LabError } from './lab-error.js';
import { BB, type HostService, payloadServer, ping, prologue, type Scenario, statusLine, waitDown, waitExitCode, waitIp } from './scenario-kit.js';

/**
 * What Windows peers ask of a link, on two real pppds in the guests:
 * - 6: MS-CHAP v2 with required MPPE-128 under `laplink serve` / `connect --persist` (status shows
 *   the kind, the peer's name and the cipher), then, in the same boot, the client comes back with a
 *   wrong password: exits 11 / 19 and back-off, as scenario 4 shows for PAP.
 * - 7: internet over the cable: guest A is the gateway (generated nft masquerade + forwarding
 *   sysctl, dnsmasq for DNS); guest B, whose only network is the cable, fetches a file by name from
 *   an HTTP server this host runs on 127.0.0.1, reached only through A's restricted guestfwd.
 */

/** Same observation window as scenario 4: a hot loop restarts many times in it, back-off a few. */
const WINDOW = 8;

/**
 * The guests see this host's /etc/ppp: tools run here (wvdial adds `user * password` lines to both
 * secrets files) can leave entries that pppd matches before our block. Each guest starts from empty
 * secrets files in its own overlay; the host's files are not touched.
 */
const FRESH_SECRETS = `for f in pap-secrets chap-secrets; do echo '# lab: fresh secrets file' > /etc/ppp/$f; chmod 600 /etc/ppp/$f; done`;

/** pppd sets ppp0's address a moment before it brings the interface up: wait (bounded) for the route. */
function routeTo(ip: string): string {
  return `end=$(( $(date +%s) + 10 )); until ip route get ${ip} > /dev/null 2>&1; do [ $(date +%s) -gt $end ] && break; ${BB} sleep 0.2; done`;
}

export function mschapScenario(): Scenario {
  const server = `${prologue()}
${FRESH_SECRETS}
$LAPLINK serve --debug lab/profiles/server-mschap.yaml > /tmp/sup.log 2>&1 &
SUP=$!
PPPD=$SUP
${waitIp('192.168.7.1', 90).replace('/tmp/pppd.log', '/tmp/sup.log')}
${routeTo('192.168.7.2')}
${ping('192.168.7.2', 3)}
${statusLine('lab-mschap-server')}
grep -aE '^(require-mschap-v2|require-mppe-128)$' /etc/ppp/peers/lab-mschap-server | sed 's/^/LAB:PEERS /'
grep -aE 'compression enabled|Peer .* failed CHAP' /tmp/sup.log | head -n 2 | sed 's/^/LAB:PPPD /'
# end this pppd (the supervisor respawns it): the client sees the link drop and comes back with a wrong password
kill $(head -n 1 /var/run/ppp-lab-mschap-server.pid)
${waitExitCode('lab-mschap-server', 11, 120)}
${statusLine('lab-mschap-server', 'FIRST')}
${BB} sleep ${WINDOW}
${statusLine('lab-mschap-server', 'AFTER')}
grep -a 'failed CHAP authentication' /tmp/sup.log | head -n 1 | sed 's/^/LAB:PPPD /'
kill $SUP 2>/dev/null; wait $SUP; echo "LAB:SUPERVISOR-EXIT $?"
`;
  const client = `${prologue()}
${FRESH_SECRETS}
$LAPLINK connect --persist --debug lab/profiles/client-mschap.yaml > /tmp/sup.log 2>&1 &
SUP=$!
PPPD=$SUP
${waitIp('192.168.7.2', 90).replace('/tmp/pppd.log', '/tmp/sup.log')}
${routeTo('192.168.7.1')}
${ping('192.168.7.1', 3)}
${statusLine('lab-mschap-client')}
grep -aE '^refuse-' /etc/ppp/peers/lab-mschap-client | tr '\\n' ' ' | sed 's/^/LAB:PEERS /'; echo
${waitDown(60)}
kill $SUP 2>/dev/null; wait $SUP; echo "LAB:SUPERVISOR-EXIT $?"
sed 's/password: labpass/password: not-the-password/' lab/profiles/client-mschap.yaml > /tmp/wrong.yaml
$LAPLINK connect --persist /tmp/wrong.yaml > /tmp/sup2.log 2>&1 &
SUP=$!
${waitExitCode('lab-mschap-client', 19, 120)}
${statusLine('lab-mschap-client', 'FIRST')}
${BB} sleep ${WINDOW}
${statusLine('lab-mschap-client', 'AFTER')}
grep -a 'MS-CHAP authentication failed' /tmp/sup2.log | head -n 1 | sed 's/^/LAB:PPPD /'
kill $SUP 2>/dev/null; wait $SUP; echo "LAB:SUPERVISOR-EXIT2 $?"
`;
  const up = (self: string, peer: string, extra: string) =>
    new RegExp(`LAB:STATUS (?=.*"state": *"up")(?=.*"localIp": *"${self.replace(/\./g, '\\.')}")(?=.*"remoteIp": *"${peer.replace(/\./g, '\\.')}")(?=.*"authMethod": *"mschap-v2")(?=.*"compression": *"MPPE 128-bit stateless")${extra}`);
  const backedOff = (code: number) => new RegExp(`LAB:AFTER (?=.*"restarts": *[1-9][,}\\s])(?=.*"lastExit": *\\{ *"code": *${code},)`);
  return {
    id: '07-mschap-v2-mppe',
    // three links in one boot (up, wrong password with its observation window): ~130 s here
    guestTimeoutMs: 240_000,
    title: 'MS-CHAP v2 + MPPE-128 under serve/connect --persist (status: kind, peer, cipher), then a wrong MS-CHAP v2 password: exits 11/19, back-off',
    join: 'bridge',
    a: { name: 'A-serve-mschap', script: server, cable: true },
    b: { name: 'B-connect-mschap', script: client, cable: true },
    expectA: [
      /LAB:PEERS require-mschap-v2/, /LAB:PEERS require-mppe-128/,
      /LAB:UP 192\.168\.7\.1 192\.168\.7\.2/, /LAB:PING-OK 192\.168\.7\.2 [1-9]/,
      up('192.168.7.1', '192.168.7.2', '(?=.*"peerUser": *"labuser")'),
      /LAB:PPPD .*MPPE 128-bit stateless compression enabled/,
      /LAB:FIRST .*"code": *11,.*"meaning": *"peer failed to authenticate"/, backedOff(11),
      /LAB:PPPD .*Peer labuser failed CHAP authentication/,
    ],
    expectB: [
      /LAB:PEERS refuse-pap refuse-chap refuse-mschap refuse-eap/,
      /LAB:UP 192\.168\.7\.2 192\.168\.7\.1/, /LAB:PING-OK 192\.168\.7\.1 [1-9]/,
      up('192.168.7.2', '192.168.7.1', ''),
      /LAB:FIRST .*"code": *19,.*"meaning": *"authentication to peer failed"/, backedOff(19),
      /LAB:PPPD .*MS-CHAP authentication failed: Access denied/,
    ],
    runsOn: 'laplink serve / connect --persist (--debug) / status --json, generate (auth mschap-v2, accept, encrypt mppe-128), bridge serve/connect (all product); ppp_mppe in the guest kernel',
  };
}

export function gatewayScenario(): Scenario {
  const token = `laplink-payload-${randomBytes(8).toString('hex')}`;
  const name = 'files.laplink.test';
  const table = 'laplink_lab_gateway';
  let served: (HostService & { requests: () => number }) | undefined;
  const gateway = `${prologue()}
${FRESH_SECRETS}
ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 && ip route add default via 10.0.2.2 && echo "LAB:NET"
# the generated rules are loaded before the link exists, so the first forwarded packet is already masqueraded
$LAPLINK generate lab/profiles/server-gateway.yaml > /tmp/gen.out 2>&1 || { echo "LAB:FAIL generate"; cat /tmp/gen.out; }
nft -f /etc/nftables.d/laplink-lab-gateway.nft && echo "LAB:NFT-LOADED $(grep -c 'counter masquerade' /etc/nftables.d/laplink-lab-gateway.nft)"
sysctl -p /etc/sysctl.d/60-laplink-lab-gateway.conf > /dev/null && echo "LAB:FORWARD $(cat /proc/sys/net/ipv4/ip_forward)"
grep -E '^ms-dns' /etc/ppp/peers/lab-gateway | sed 's/^/LAB:PEERS /'
$LAPLINK serve --no-generate lab/profiles/server-gateway.yaml > /tmp/sup.log 2>&1 &
SUP=$!
PPPD=$SUP
${waitIp('192.168.7.1', 150).replace('/tmp/pppd.log', '/tmp/sup.log')}
# busybox has no DNS server: the host's dnsmasq, answering only on the link, with one record and no upstream
dnsmasq --no-resolv --no-hosts --interface=ppp0 --bind-interfaces --address=/${name}/10.0.2.100 --user=root --pid-file=/tmp/dnsmasq.pid --log-queries --log-facility=/tmp/dnsmasq.log && echo "LAB:DNS"
# the client hangs up when it has fetched the file
${waitDown(120)}
echo "LAB:DOWN"
nft list table inet ${table} | grep -o 'counter packets [0-9]* bytes [0-9]*' | sed 's/^/LAB:NFT /'
grep -o 'query\\[A\\] ${name} from [0-9.]*' /tmp/dnsmasq.log | head -n 1 | sed 's/^/LAB:DNSQ /'
kill $(cat /tmp/dnsmasq.pid) 2>/dev/null
kill $SUP 2>/dev/null; wait $SUP; echo "LAB:SUPERVISOR-EXIT $?"
`;
  const client = `${prologue()}
${FRESH_SECRETS}
echo "LAB:LINKS $(ls /sys/class/net | tr '\\n' ' ')"
$LAPLINK connect --persist lab/profiles/client-gateway.yaml > /tmp/sup.log 2>&1 &
SUP=$!
PPPD=$SUP
${waitIp('192.168.7.2', 150).replace('/tmp/pppd.log', '/tmp/sup.log')}
echo "LAB:ROUTE $(ip route show default)"
# pppd's usepeerdns writes /etc/ppp/resolv.conf; Debian's ip-up.d/0000usepeerdns merges it into /etc/resolv.conf
end=$(( $(date +%s) + 30 )); until grep -q '^nameserver 192.168.7.1' /etc/resolv.conf; do [ $(date +%s) -gt $end ] && break; ${BB} sleep 0.2; done
echo "LAB:RESOLV $(grep '^nameserver' /etc/resolv.conf | tr '\\n' ' ')"
end=$(( $(date +%s) + 30 )); until getent hosts ${name} > /tmp/getent.out; do [ $(date +%s) -gt $end ] && break; ${BB} sleep 0.5; done
echo "LAB:RESOLVED $(cat /tmp/getent.out)"
if curl -sS --max-time 20 --retry 3 --retry-connrefused -o /tmp/payload http://${name}:8080/payload 2> /tmp/curl.err; then echo "LAB:FETCH $(cat /tmp/payload)"; else echo "LAB:FETCH-FAIL $(cat /tmp/curl.err)"; tail -n 30 /tmp/sup.log | sed 's/^/LAB:LOG /'; fi
kill $SUP 2>/dev/null; wait $SUP; echo "LAB:SUPERVISOR-EXIT $?"
`;
  return {
    id: '08-gateway',
    // two Node commands before A's pppd listens (generate, serve), one DNS lookup and a fetch after: ~80 s idle, twice that on a busy host
    guestTimeoutMs: 240_000,
    title: 'internet over the cable: gateway masquerades (nft counter), DNS over IPCP (dnsmasq on the link), the cable-only peer fetches a file by name from a host-loopback HTTP server',
    join: 'bridge',
    hostService: async () => (served = await payloadServer(token)),
    a: { name: 'A-gateway', script: gateway, cable: true, guestfwdPort: 8080 },
    b: { name: 'B-cable-only', script: client, cable: true },
    host: async (ctl) => {
      await ctl.waitB(/LAB:FETCH/, 230_000);
      if (!served || served.requests() === 0) throw new LabError('the host HTTP server saw no request: the file did not come through the gateway');
    },
    expectA: [
      /LAB:NET/, /LAB:NFT-LOADED 1/, /LAB:FORWARD 1/, /LAB:PEERS ms-dns 192\.168\.7\.1/,
      /LAB:UP 192\.168\.7\.1 192\.168\.7\.2/, /^LAB:DNS\s*$/m,
      /LAB:NFT counter packets [1-9]\d* bytes [1-9]\d*/,
      new RegExp(`LAB:DNSQ query\\[A\\] ${name.replace(/\./g, '\\.')} from 192\\.168\\.7\\.2`),
    ],
    expectB: [
      /LAB:LINKS lo $/m,
      /LAB:UP 192\.168\.7\.2 192\.168\.7\.1/, /LAB:ROUTE default (via 192\.168\.7\.1 )?dev ppp0/,
      /LAB:RESOLV nameserver 192\.168\.7\.1/, /LAB:RESOLVED 10\.0\.2\.100\s+files\.laplink\.test/,
      new RegExp(`LAB:FETCH ${token}`),
    ],
    runsOn: 'laplink generate (gateway: nft inet masquerade, sysctl, ms-dns; client defaultRoute + usePeerDns), serve / connect --persist, bridge serve/connect (product); dnsmasq and nft in guest A, curl/getent in guest B (real tools)',
  };
}

export function windowsScenarios(): Scenario[] {
  return [mschapScenario(), gatewayScenario()];
}
