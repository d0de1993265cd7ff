import { connect } from 'node:net';
import { LabError } from './lab-error.js';
import { BB, ping, prologue, type Scenario, statusLine, waitDown, waitExitCode, waitIp } from './scenario-kit.js';

const ANSWER_WAIT_MS = 120_000;

/**
 * A Windows DCC guest that gives up just as the host answers: it sends CLIENT each second until
 * CLIENTSERVER comes back, then hangs up without ever speaking PPP. The host's pppd has passed its
 * handshake and waits for a peer that is gone; it must give up and wait for the handshake again,
 * or the guest joined next asks CLIENT for ever. (A `silent` pppd waited for LCP for ever: a guest
 * whose chat ended just as the answer came deadlocked the link, which CI once caught by chance.)
 */
function callerThatLeaves(port: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let heard = '';
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      clearInterval(resend);
      clearTimeout(deadline);
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      if (err) reject(err); else resolve();
    };
    const onAbort = () => finish(new LabError('the caller on A\'s second cable was stopped: the scenario ended'));
    const resend = setInterval(() => socket.write('CLIENT'), 1000);
    const deadline = setTimeout(() => finish(new LabError(`no CLIENTSERVER on A's second cable within ${ANSWER_WAIT_MS / 1000} s; heard ${JSON.stringify(heard.slice(-64))}`)), ANSWER_WAIT_MS);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('connect', () => socket.write('CLIENT'));
    socket.on('data', (d: Buffer) => {
      heard = (heard + d.toString('latin1')).slice(-256);
      if (heard.includes('CLIENTSERVER')) finish();
    });
    socket.on('error', (e) => finish(new LabError(`the caller on A's second cable: ${e.message}`)));
    socket.on('close', () => finish(new LabError('A\'s second cable hung up before CLIENTSERVER')));
  });
}

/** Restarts of one link in a `statusLine` marker's JSON, or undefined when it is not there. */
function restartsIn(consoleText: string, tag: string): number | undefined {
  const m = new RegExp(`LAB:${tag} .*?"restarts": *(\\d+)`).exec(consoleText);
  return m ? Number(m[1]) : undefined;
}

/** Wait (inside the guest, bounded) until some interface carries `ip` and is up (see waitIp): with
 *  two links, which one is ppp0 depends on which came up first. */
function waitAddress(ip: string, seconds: number, tag: string): string {
  const iface = `$(ip -4 -o addr show 2>/dev/null | grep "inet ${ip} " | ${BB} awk '{print $2}')`;
  const has = `ip -4 -o addr show 2>/dev/null | grep -q "inet ${ip} " && ip -o link show ${iface} 2>/dev/null | grep -q '[<,]UP[,>]'`;
  return `end=$(( $(date +%s) + ${seconds} )); until ${has}; do [ $(date +%s) -gt $end ] && break; ${BB} sleep 0.2; done
if ${has}; then echo "LAB:${tag} $(ip -4 -o addr show | grep "inet ${ip} " | ${BB} awk '{print $2, $4, $6}')"; else echo "LAB:NOT-${tag}"; tail -n 30 /tmp/sup1.log /tmp/sup2.log | sed 's/^/LAB:LOG /'; fi`;
}

/**
 * Scenario 11: one server, two cables. Guest A runs two `laplink serve` instances, one per serial
 * port (ttyS0 to guest B: Linux, PAP; ttyS2 to guest C: Windows DCC handshake, PAP), with their
 * blocks side by side in the same pap-secrets. Both links come up together and each client pings A.
 * Before C is joined, a caller on A's second cable hears CLIENTSERVER and leaves: lab-server-second's
 * pppd gives up LCP and is respawned to answer C. The host then cuts B's cable: lab-server's pppd
 * exits 16 (LCP echo), while lab-server-second stays up (no more restarts) and A still pings C. `laplink status` shows both links in one table.
 */
export function twoCablesScenario(): Scenario {
  const server = `${prologue()}
$LAPLINK serve lab/profiles/server.yaml > /tmp/sup1.log 2>&1 &
SUP1=$!
$LAPLINK serve lab/profiles/server-second.yaml > /tmp/sup2.log 2>&1 &
SUP2=$!
${waitAddress('192.168.7.1', 150, 'UP-B')}
${waitAddress('192.168.8.1', 60, 'UP-C')}
${ping('192.168.7.2', 2)}
${ping('192.168.8.2', 2)}
grep -cE '^(labuser|dccuser)[[:space:]]' /etc/ppp/pap-secrets | sed 's/^/LAB:SECRETS-USERS /'
grep -a 'send (CLIENTSERVER)' /tmp/sup2.log | head -n 1 | sed 's/^/LAB:PPPD /'
$LAPLINK status | sed 's/^/LAB:TABLE1 /'
grep -a 'timeout sending Config-Requests' /tmp/sup2.log | head -n 1 | sed 's/^/LAB:GAVE-UP /'
${statusLine('lab-server-second', 'KEPT-BEFORE')}
echo "LAB:BOTH-UP"
${waitExitCode('lab-server', 16, 60)}
${statusLine('lab-server', 'CUT')}
${statusLine('lab-server-second', 'KEPT')}
${ping('192.168.8.2', 3).replace('LAB:PING-OK', 'LAB:PING-AFTER-CUT-OK')}
$LAPLINK status | sed 's/^/LAB:TABLE2 /'
kill $SUP1 $SUP2 2>/dev/null; wait $SUP1; echo "LAB:SUPERVISOR1-EXIT $?"; wait $SUP2; echo "LAB:SUPERVISOR2-EXIT $?"
`;
  const client = (profile: string, ip: string, peer: string, downSeconds: number) => `${prologue()}
$LAPLINK connect --persist lab/profiles/${profile}.yaml > /tmp/sup.log 2>&1 &
SUP=$!
PPPD=$SUP
${waitIp(ip, 150).replace('/tmp/pppd.log', '/tmp/sup.log')}
${ping(peer, 3)}
${waitDown(downSeconds)}
echo "LAB:DOWN"
kill $SUP 2>/dev/null; wait $SUP; echo "LAB:SUPERVISOR-EXIT $?"
`;
  return {
    id: '11-two-cables',
    title: 'one server, two cables: B (Linux, PAP) and C (Windows DCC) up together, B\'s cable cut, C stays up',
    join: 'bridge',
    // three TCG guests on two cores, four Node start-ups in guest A
    guestTimeoutMs: 240_000,
    a: { name: 'A-two-serve', script: server, cable: true, cable2: true },
    // before C is joined, a caller on A's second cable hears CLIENTSERVER and leaves
    beforeJoinC: callerThatLeaves,
    // B: down when the host cuts its cable; C: down only when A's supervisors end at the close
    b: { name: 'B-linux', script: client('client', '192.168.7.2', '192.168.7.1', 120), cable: true },
    c: { name: 'C-windows', script: client('client-second', '192.168.8.2', '192.168.8.1', 180), cable: true },
    host: async (ctl) => {
      await ctl.waitA(/LAB:BOTH-UP/, 200_000);
      await ctl.waitB(/LAB:PING-OK 192\.168\.7\.1/, 30_000);
      await ctl.waitC(/LAB:PING-OK 192\.168\.8\.1/, 30_000);
      await ctl.cut();
    },
    expectA: [/LAB:UP-B ppp\d 192\.168\.7\.1 192\.168\.7\.2/, /LAB:UP-C ppp\d 192\.168\.8\.1 192\.168\.8\.2/,
      /LAB:PING-OK 192\.168\.7\.2 [1-9]/, /LAB:PING-OK 192\.168\.8\.2 [1-9]/, /LAB:SECRETS-USERS 2/, /LAB:PPPD .*send \(CLIENTSERVER\)/,
      /LAB:TABLE1 .*lab-server .*up/, /LAB:TABLE1 .*lab-server-second .*up/, /LAB:TABLE1 .*2 links: 2 up/,
      /LAB:CUT (?=.*"lastExit": *\{ *"code": *16,)/,
      // the handshake's pppd gave up on the caller that left (exit 10) and was respawned for C
      /LAB:GAVE-UP .*LCP: timeout sending Config-Requests/, /LAB:KEPT-BEFORE (?=.*"restarts": *[1-9])/,
      /LAB:KEPT (?=.*"state": *"up")(?=.*"localIp": *"192\.168\.8\.1")/,
      /LAB:PING-AFTER-CUT-OK 192\.168\.8\.2 [1-9]/, /LAB:TABLE2 .*lab-server-second .*up/],
    // C's link was not respawned when B's cable was cut
    check: (_consoleB, consoleA) => {
      const [before, after] = [restartsIn(consoleA, 'KEPT-BEFORE'), restartsIn(consoleA, 'KEPT')];
      return before !== undefined && before === after ? undefined : `A: lab-server-second restarts ${before} before B's cable was cut, ${after} after`;
    },
    expectB: [/LAB:UP 192\.168\.7\.2 192\.168\.7\.1/, /LAB:PING-OK 192\.168\.7\.1 [1-9]/, /LAB:DOWN/],
    expectC: [/LAB:UP 192\.168\.8\.2 192\.168\.8\.1/, /LAB:PING-OK 192\.168\.8\.1 [1-9]/],
    runsOn: 'two laplink serve on one guest (ttyS0, ttyS2), connect --persist in B and C, status, generate (shared pap-secrets), bridge serve/connect twice (all product)',
  };
}
