import { BB, ping, prologue, type Scenario, waitDown, waitIp } from './scenario-kit.js';

/** lab-server-ipv6's routedPrefix, and an address in it on the client's lo. */
const ROUTED = 'fd00:77::/64';
const BEHIND = 'fd00:77::1';

/** Wait (inside the guest, bounded) until ppp0 carries `ip` (set by the generated ipv6-up.d script). */
function waitIp6(ip: string, seconds: number): string {
  return `end=$(( $(date +%s) + ${seconds} )); until ip -6 addr show ppp0 2>/dev/null | grep -q "inet6 ${ip}/64 "; do [ $(date +%s) -gt $end ] && break; ${BB} sleep 0.2; done
if ip -6 addr show ppp0 2>/dev/null | grep -q "inet6 ${ip}/64 "; then echo "LAB:UP6 $(ip -6 -o addr show ppp0 | ${BB} awk '{print $4}' | tr '\\n' ' ')"; else echo "LAB:NOT-UP6"; ip -6 addr show ppp0 | sed 's/^/LAB:ADDR /'; tail -n 40 /tmp/sup.log | sed 's/^/LAB:LOG /'; fi`;
}

/**
 * Scenario 10: a dual-stack link under the supervisors. Both profiles have `ipv6:` with identifiers
 * ::1/::2 and the /64 fd00:7::/64: IPV6CP gives each ppp0 its fe80::ID, Debian's /etc/ppp/ipv6-up runs
 * the generated ipv6-up.d script, which adds fd00:7::ID/64. Each guest pings the other over the
 * link-local address (`fe80::N%ppp0`) and over the ULA, with busybox `ping -6`, and shows
 * `status --json` with the IPv6 addresses (the table's IPv6 note is proven in test/unit/ipv6.test.ts).
 */
export function ipv6Scenario(): Scenario {
  const side = (cmd: string, profile: string, link: string, ip: string, peer: string, ll: string, ula: string, peerLl: string, peerUla: string) => `${prologue()}
${cmd === 'serve' ? '' : `# the network behind the client: the server routes ${ROUTED} here through the link
ip link set lo up; ip -6 addr add ${BEHIND}/128 dev lo`}
$LAPLINK ${cmd} lab/profiles/${profile}.yaml > /tmp/sup.log 2>&1 &
SUP=$!
PPPD=$SUP
${waitIp(ip, 90).replace('/tmp/pppd.log', '/tmp/sup.log')}
${waitIp6(ula, 30)}
ip -6 -o addr show ppp0 | grep -q "inet6 ${ll} peer ${peerLl}/" && echo "LAB:LL ${ll} peer ${peerLl}"
ls /etc/ppp/ipv6-up.d | sed 's/^/LAB:IPV6-UP.D /'
${ping(peer, 2)}
${ping(`${peerLl}%ppp0`, 3).replace(`${BB} ping -c`, `${BB} ping -6 -c`)}
${ping(peerUla, 3).replace(`${BB} ping -c`, `${BB} ping -6 -c`)}
${cmd === 'serve' ? `ip -6 route show ${ROUTED} | sed 's/^/LAB:ROUTE /'
${ping(BEHIND, 3).replace(`${BB} ping -c`, `${BB} ping -6 -c`)}` : ''}
grep -aE 'LL address' /tmp/sup.log | sed 's/^/LAB:PPPD /'
$LAPLINK status ${link} --json > /tmp/status.json 2>&1; echo "LAB:STATUS $(tr -d '\\n' < /tmp/status.json)"
${cmd === 'serve' ? `${BB} sleep 2` : waitDown(20)}
kill $SUP 2>/dev/null; wait $SUP; echo "LAB:SUPERVISOR-EXIT $?"
`;
  const expect = (ll: string, ula: string, peerLl: string, peerUla: string, link: string) => [
    /LAB:UP 192\.168\.7\.\d 192\.168\.7\.\d/,
    new RegExp(`LAB:UP6 .*${ula}/64`),
    new RegExp(`LAB:LL ${ll} peer ${peerLl}`),
    new RegExp(`LAB:IPV6-UP.D laplink-${link}`),
    new RegExp(`LAB:PING-OK ${peerLl}%ppp0 [1-9]\\d* packets received`),
    new RegExp(`LAB:PING-OK ${peerUla} [1-9]\\d* packets received`),
    new RegExp(`LAB:STATUS (?=.*"state": *"up")(?=.*"localIp6": *"${ll}")(?=.*"remoteIp6": *"${peerLl}")(?=.*"localIp6Net": *"${ula}")(?=.*"remoteIp6Net": *"${peerUla}")`),
  ];
  return {
    id: '10-ipv6',
    title: 'dual stack under serve / connect --persist: IPV6CP fe80::1 <-> fe80::2, fd00:7::/64 from ipv6-up.d, ping -6 both ways, fd00:77::/64 routed to the client',
    join: 'bridge',
    a: { name: 'A-serve', script: side('serve', 'server-ipv6', 'lab-server-ipv6', '192.168.7.1', '192.168.7.2', 'fe80::1', 'fd00:7::1', 'fe80::2', 'fd00:7::2'), cable: true },
    b: { name: 'B-connect', script: side('connect --persist', 'client-ipv6', 'lab-client-ipv6', '192.168.7.2', '192.168.7.1', 'fe80::2', 'fd00:7::2', 'fe80::1', 'fd00:7::1'), cable: true },
    expectA: [...expect('fe80::1', 'fd00:7::1', 'fe80::2', 'fd00:7::2', 'lab-server-ipv6'),
      /LAB:ROUTE fd00:77::\/64 dev ppp0/, /LAB:PING-OK fd00:77::1 [1-9]\d* packets received/],
    expectB: expect('fe80::2', 'fd00:7::2', 'fe80::1', 'fd00:7::1', 'lab-client-ipv6'),
    runsOn: 'laplink serve / connect --persist / status, generate (ipv6: peers +ipv6, ipv6-up.d script), Debian ipv6-up + run-parts, busybox ping -6, bridge serve/connect (all product)',
  };
}
