#!/usr/bin/env node
/**
 * STAND-IN for pppd, used only because this machine's kernel has no PPP support: the real
 * /usr/sbin/pppd exits 4 before negotiating anything (see test/interop/supervisor-real-pppd.test.ts).
 * It prints the log lines real pppd 2.4.9 prints for a scenario (messages copied from pppd's
 * main.c, auth.c, ipcp.c, lcp.c, fsm.c, tty.c, upap.c, session.c) and exits with that status.
 *
 * Argv is pppd's: `call NAME | file PATH`, optional device, `nodetach`, `debug`.
 * Environment:
 *   FAKE_PPPD_SCENARIO   up-hangup | up-hold | exit:N        (default up-hangup)
 *   FAKE_PPPD_SEQUENCE   comma list of scenarios, one per start (needs FAKE_PPPD_STATE)
 *   FAKE_PPPD_STATE      file counting starts (one line "pid argv…" appended per start)
 *   FAKE_PPPD_HOLD_MS    how long the link stays up in up-hangup (default 50)
 *   FAKE_PPPD_IGNORE_TERM=1   ignore SIGTERM (to test the supervisor's SIGKILL)
 *   FAKE_PPPD_CHILD=1    start a child like a connect script (`sleep`), to check none is left
 *   FAKE_PPPD_LOCKDIR    write LCK..<device> there with our pid (like pppd `lock`), removed on exit
 *   FAKE_PPPD_LINE_MS    pause before the connect-script-done line and before the rest of the link-up lines
 *   FAKE_PPPD_EXITLOG    file: one line "pid time code" appended just before each exit (bench)
 *   FAKE_PPPD_SECRET     printed in a debug PAP line (with show-password), to test redaction
 *   FAKE_PPPD_PEER_USER  the user name the peer sends (default labuser): a peer sending its password
 *                        there makes pppd print it in "PAP peer authentication … for USER"
 * Like pppd, SIGTERM prints "Terminating on signal 15", "Connection terminated." and exits 5.
 * In up-hold, if the device named in argv disappears: "Modem hangup", exit 16.
 */
import { appendFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';

const argv = process.argv.slice(2);
const env = process.env;
const say = (line) => process.stdout.write(`${line}\n`);
const err = (line) => process.stderr.write(`${line}\n`);

let name = 'link';
let device = '/dev/ttyS0';
let deviceGiven = false;
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === 'call') name = argv[++i];
  else if (argv[i] === 'file') name = argv[++i].split('/').pop();
  else if (argv[i].startsWith('/')) {
    device = argv[i];
    deviceGiven = true;
  }
}

let scenario = env.FAKE_PPPD_SCENARIO ?? 'up-hangup';
if (env.FAKE_PPPD_STATE) {
  const n = existsSync(env.FAKE_PPPD_STATE) ? readFileSync(env.FAKE_PPPD_STATE, 'utf8').split('\n').filter(Boolean).length : 0;
  appendFileSync(env.FAKE_PPPD_STATE, `${process.pid} ${performance.timeOrigin + performance.now()} ${argv.join(' ')}\n`);
  if (env.FAKE_PPPD_SEQUENCE) {
    const seq = env.FAKE_PPPD_SEQUENCE.split(',');
    scenario = seq[Math.min(n, seq.length - 1)];
  }
}

// Like pppd's `lock` option: an HDB UUCP lock file with our pid, removed on a clean exit.
const lockFile = env.FAKE_PPPD_LOCKDIR ? `${env.FAKE_PPPD_LOCKDIR}/LCK..${device.split('/').pop()}` : undefined;
if (lockFile) writeFileSync(lockFile, `${String(process.pid).padStart(10)}\n`);

const peerUser = env.FAKE_PPPD_PEER_USER ?? 'labuser';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let child;
if (env.FAKE_PPPD_CHILD === '1') child = spawn('sleep', ['600'], { stdio: 'ignore' });

const finish = (code) => {
  if (child) child.kill('SIGTERM');
  if (lockFile) rmSync(lockFile, { force: true });
  if (env.FAKE_PPPD_EXITLOG) appendFileSync(env.FAKE_PPPD_EXITLOG, `${process.pid} ${performance.timeOrigin + performance.now()} ${code}\n`);
  process.exit(code);
};

process.on('SIGTERM', () => {
  if (env.FAKE_PPPD_IGNORE_TERM === '1') return;
  say('Terminating on signal 15');
  say('Connect time 0.1 minutes.');
  say('Sent 1024 bytes, received 2048 bytes.');
  say('Connection terminated.');
  finish(5);
});
process.on('SIGHUP', () => {
  say('Hangup (SIGHUP)');
  say('Connection terminated.');
  finish(16);
});


async function linkUp() {
  // FAKE_PPPD_LINE_MS spaces the lines out, so the handshaking/negotiating states can be seen
  const step = Number(env.FAKE_PPPD_LINE_MS ?? 0);
  if (step) await sleep(step);
  say('Serial connection established.');
  if (step) await sleep(step);
  say('Using interface ppp0');
  say(`Connect: ppp0 <--> ${device}`);
  if (env.FAKE_PPPD_SECRET) say(`rcvd [PAP AuthReq id=0x1 user="labuser" password="${env.FAKE_PPPD_SECRET}"]`);
  say(`PAP peer authentication succeeded for ${peerUser}`);
  say('Remote message: Login ok');
  say('local  IP address 192.168.7.1');
  say('remote IP address 192.168.7.2');
}

/** Lines real pppd prints before each exit status (pppd.h EXIT_*). */
const exitLines = {
  0: async () => { await linkUp(); say('LCP terminated by peer (User request)'); say('Connect time 0.1 minutes.'); say('Sent 10 bytes, received 20 bytes.'); say('Connection terminated.'); },
  1: () => err("Couldn't open /dev/ppp: Permission denied"),
  2: () => err(`pppd: In file /etc/ppp/peers/${name}: unrecognized option 'bogus'`),
  3: () => err('pppd: must be root to run pppd, since it is not setuid-root'),
  4: () => { err("Couldn't open the /dev/ppp device: No such file or directory"); err('pppd: You need to create the /dev/ppp device node by'); },
  5: () => { say('Terminating on signal 15'); say('Connection terminated.'); },
  6: () => say(`Device ${device.replace('/dev/', '')} is locked by pid 4242`),
  7: () => err(`Failed to open ${device}: No such file or directory`),
  8: () => err('Connect script failed'),
  9: () => err('Child process laplink bridge stdio (pid 4321) terminated with signal 1'),
  10: () => { say('Using interface ppp0'); say(`Connect: ppp0 <--> ${device}`); say('LCP: timeout sending Config-Requests'); say('Connection terminated.'); },
  11: () => { say('Using interface ppp0'); say(`Connect: ppp0 <--> ${device}`); say(`PAP peer authentication failed for ${peerUser}`); say('Connection terminated.'); },
  12: async () => { await linkUp(); say('Terminating connection due to lack of activity.'); say('Connection terminated.'); },
  13: async () => { await linkUp(); say('Connect time expired'); say('Connection terminated.'); },
  14: () => { say('Using interface ppp0'); say(`Connect: ppp0 <--> ${device}`); say('Connection terminated.'); },
  15: async () => { await linkUp(); say('No response to 3 echo-requests'); say('Serial link appears to be disconnected.'); say('Connection terminated.'); },
  16: async () => { await linkUp(); say('Modem hangup'); say('Connection terminated.'); },
  17: () => { say('Using interface ppp0'); say(`Connect: ppp0 <--> ${device}`); say('Serial line is looped back.'); say('Connection terminated.'); },
  18: () => err('Initializer script failed'),
  19: () => { say('Using interface ppp0'); say(`Connect: ppp0 <--> ${device}`); say('Remote message: Login incorrect'); err('PAP authentication failed'); say('Connection terminated.'); },
};

if (scenario === 'up-hangup') {
  await linkUp();
  await sleep(Number(env.FAKE_PPPD_HOLD_MS ?? 50));
  say('No response to 3 echo-requests');
  say('Serial link appears to be disconnected.');
  say('Connect time 0.1 minutes.');
  say('Sent 100 bytes, received 200 bytes.');
  say('Modem hangup');
  say('Connection terminated.');
  finish(16);
} else if (scenario === 'up-hold') {
  await linkUp();
  // Real pppd notices a vanished line as a hangup; poll quietly (a stand-in, not a benchmark target).
  setInterval(() => {
    if (deviceGiven && !existsSync(device)) {
      say('Modem hangup');
      say('Connection terminated.');
      finish(16);
    }
  }, deviceGiven ? 200 : 3_600_000);
} else if (scenario.startsWith('exit:')) {
  const code = Number(scenario.slice(5));
  await exitLines[code]?.();
  await sleep(5);
  finish(code);
} else {
  err(`fake-pppd: unknown scenario ${scenario}`);
  process.exit(1);
}
