/**
 * The generated ip-up.d / ip-down.d queue hooks under the real run-parts (as Debian's /etc/ppp/ip-up
 * and ip-down call them), the real `tc` and `ip`, on a veth in a fresh network namespace
 * (`unshare -n`): this kernel has no PPP, so no ppp0 exists here; the lab runs them on a real ppp0.
 * What gets installed depends on this kernel's qdiscs (CAKE, else fq_codel under HTB, else HTB over
 * a short FIFO): each test reads back what is there with readQueueStats and holds the hook to it.
 * Also: the gateway's MSS clamp, checked by the real `nft -c -f`.
 */
import { execa } from 'execa';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { autoRate } from '../../src/profile/queue.js';
import { generateLink } from '../../src/render/generate.js';
import { parseQdiscJson } from '../../src/pppd/queue-stats.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'laplink-queue-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ARGV = ['/usr/bin/node', '/opt/laplink/bin/laplink.js'];

async function generate(name: string, extra: string): Promise<string> {
  const root = await mkdtemp(join(dir, `${name}-`));
  const profile = join(root, 'p.yaml');
  await writeFile(profile, `name: ${name}\nrole: client\ndevice: /dev/ttyS0\nlocalIp: 192.168.7.2\nremoteIp: 192.168.7.1\nsystemd: false\n${extra}`);
  await generateLink(profile, { root, laplinkArgv: ARGV });
  return root;
}

/**
 * A shell run in a new network namespace with a veth pair v0/v1; `steps` is shell text. Prints the
 * qdiscs of v0 (JSON) after each `@show` marker and the links after `@links`.
 */
async function inNamespace(steps: string): Promise<{ stdout: string; stderr: string; exitCode: number | undefined }> {
  const script = `ip link add v0 type veth peer name v1 && ip link set v0 up && ip link set v1 up || exit 99
show() { echo "@qdisc $(tc -s -j qdisc show dev v0)"; echo "@links $(ip -o link show | cut -d: -f2 | tr -d ' ' | tr '\\n' ' ')"; }
${steps}`;
  const r = await execa('unshare', ['-n', 'sh', '-c', script], { reject: false });
  return { stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode };
}

/** The `@qdisc` snapshots, in order. */
const snapshots = (out: string) => [...out.matchAll(/^@qdisc (.*)$/gm)].map((m) => parseQdiscJson('v0', m[1]!));
const linkLists = (out: string) => [...out.matchAll(/^@links (.*)$/gm)].map((m) => m[1]!.trim().split(/\s+/).map((l) => l.replace(/@.*/, '')));

/** As /etc/ppp/ip-up does: run-parts DIR --arg=IFACE --arg=TTY --arg=SPEED --arg=LOCAL --arg=REMOTE --arg=IPPARAM, pppd's environment around it. */
const runParts = (d: string, linkname: string) => `PPPD_PID=1 PPP_IFACE=v0 LINKNAME=${linkname} run-parts ${d} --arg=v0 --arg=/dev/ttyS0 --arg=115200 --arg=192.168.7.2 --arg=192.168.7.1 --arg=`;

describe('queue hooks (ip-up.d / ip-down.d)', () => {
  it('run-parts runs both; up shapes only its own link at the auto rate, down leaves the default qdisc', async () => {
    const root = await generate('qlink', '');
    const up = join(root, 'etc/ppp/ip-up.d');
    const down = join(root, 'etc/ppp/ip-down.d');
    // run-parts skips names it does not like (dots): --test lists what it would run
    expect((await execa('run-parts', ['--test', up])).stdout).toBe(join(up, 'laplink-qlink'));
    expect((await execa('run-parts', ['--test', down])).stdout).toBe(join(down, 'laplink-qlink'));
    const r = await inNamespace(`show
${runParts(up, 'another-link')}; show
${runParts(up, 'qlink')}; show
${runParts(down, 'another-link')}; show
${runParts(down, 'qlink')}; show`);
    expect(r.exitCode, r.stderr).toBe(0);
    const [before, otherUp, ownUp, otherDown, ownDown] = snapshots(r.stdout);
    expect(before!.shaped).toBe(false);
    expect(otherUp!.managedBy).toBe(before!.managedBy); // another link's ip-up: nothing touched
    expect(ownUp!.shaped).toBe(true);
    expect(['cake', 'htb+fq_codel', 'htb+pfifo']).toContain(ownUp!.managedBy);
    // the hook says what it installed, and that is what tc shows
    expect(r.stderr).toContain(`laplink-qlink: v0: sending shaped at ${autoRate(115200)} bit/s by ${ownUp!.managedBy}`);
    if (ownUp!.managedBy === 'cake') expect(ownUp!.rateBits).toBe(Math.floor(autoRate(115200) / 8) * 8);
    expect(otherDown!.managedBy).toBe(ownUp!.managedBy);
    expect(ownDown!.shaped).toBe(false);
    expect(ownDown!.managedBy).toBe(before!.managedBy);
  });

  it.each([
    ['VJ on (the default): no ECN, whose flags a VJ-compressed header cannot carry', '', false],
    ['VJ off: ECN, so the AQM marks rather than drops', 'vjCompression: false\n', true],
  ])('fits TCP to the line on every route through it while shaped (initcwnd, rto_min; %s), and takes it back when undone', async (_what, extra, ecn) => {
    const root = await generate('qecn', extra);
    const r = await inNamespace(`ip addr add 192.168.7.2 peer 192.168.7.1 dev v0 && ip route add 10.9.0.0/16 dev v0 metric 5 || exit 98
${runParts(join(root, 'etc/ppp/ip-up.d'), 'qecn')}; echo "@routes $(ip -4 route show dev v0 | tr '\\n' ';')"
${runParts(join(root, 'etc/ppp/ip-down.d'), 'qecn')}; echo "@routes $(ip -4 route show dev v0 | tr '\\n' ';')"`);
    expect(r.exitCode, r.stderr).toBe(0);
    const [up, down] = [...r.stdout.matchAll(/^@routes (.*)$/gm)].map((m) => m[1]!.split(';').filter(Boolean));
    expect(up).toHaveLength(2);
    // 115200: 3 frames of 1508 bytes at 10 bits a byte is 392.7 ms
    for (const route of up!) {
      for (const setting of ['initcwnd 4', 'rto_min lock 393ms']) expect(route).toContain(setting);
      expect(route.includes('features ecn')).toBe(ecn);
    }
    expect(up!.find((x) => x.startsWith('192.168.7.1 '))).toMatch(/proto kernel scope link src 192\.168\.7\.2/);
    expect(down).toHaveLength(2);
    for (const route of down!) expect(route).not.toMatch(/ecn|rto_min|initcwnd/);
  });

  /**
   * A real TCP connection across the veth, to a server in a second namespace: `ss -ti` gives the
   * segment size the connection settled on, 1448 bytes of payload in a 1500-byte packet when both
   * ends agreed on timestamps (their option takes 12 bytes of every segment), 1460 without. With VJ on, the up hook's
   * table clears the option from the SYNs both ways (the client's and, for a peer that offers it,
   * the server's SYN-ACK), so a connection made while the link is up has none; down takes the table.
   */
  it.each([
    ['VJ on (the default): connections through the link agree on no timestamps', '', true],
    ['VJ off: timestamps stay, and no table is made', 'vjCompression: false\n', false],
  ])('%s', async (_what, extra, stripped) => {
    const root = await generate('qts', extra);
    // the connection's options once it is established (polled: a loaded host may take a while)
    const connect = (tag: string) => `socat -u TCP:10.77.0.2:7000,connect-timeout=5 OPEN:/dev/null & C=$!
i=0; until [ $(ss -tin state established dst 10.77.0.2 | wc -l) -gt 1 ] || [ $i -ge 100 ]; do i=$((i+1)); sleep 0.05; done
echo "@${tag} $(ss -tin state established dst 10.77.0.2 | tail -n +2 | tr '\\n' ' ')"; kill $C 2>/dev/null; wait $C 2>/dev/null`;
    const r = await inNamespace(`unshare -n sleep 60 & PEER=$!; sleep 0.2
ip link set v1 netns $PEER || exit 97
nsenter -t $PEER -n sh -c 'ip link set lo up && ip addr add 10.77.0.2/24 dev v1 && ip link set v1 up' || exit 96
ip addr add 10.77.0.1/24 dev v0 || exit 95
nsenter -t $PEER -n socat TCP-LISTEN:7000,bind=10.77.0.2,reuseaddr,fork SYSTEM:'sleep 2' & S=$!
i=0; until nsenter -t $PEER -n ss -tln | grep -q '10.77.0.2:7000' || [ $i -ge 100 ]; do i=$((i+1)); sleep 0.05; done
${connect('before')}
${runParts(join(root, 'etc/ppp/ip-up.d'), 'qts')}; echo "@tables $(nft list tables | tr '\\n' ' ')"
${connect('up')}
${runParts(join(root, 'etc/ppp/ip-down.d'), 'qts')}; echo "@tables $(nft list tables | tr '\\n' ' ')"
${connect('down')}
kill $S $PEER 2>/dev/null`);
    expect(r.exitCode, r.stderr).toBe(0);
    const info = (tag: string) => new RegExp(`^@${tag} (.*)$`, 'm').exec(r.stdout)?.[1] ?? '';
    // each snapshot caught its connection established
    for (const tag of ['before', 'up', 'down']) expect(info(tag), tag).toMatch(/10\.77\.0\.2:7000/);
    const hasTs = (tag: string) => {
      const mss = / mss:(\d+) /.exec(info(tag))?.[1];
      expect(['1448', '1460'], `${tag}: ${info(tag)}`).toContain(mss);
      return mss === '1448';
    };
    expect(hasTs('before')).toBe(true);
    expect(hasTs('up')).toBe(!stripped);
    expect(hasTs('down')).toBe(true);
    const [upTables, downTables] = [...r.stdout.matchAll(/^@tables (.*)$/gm)].map((m) => m[1]!);
    expect(upTables!.includes('inet laplink_tcp_v0')).toBe(stripped);
    expect(downTables).not.toContain('laplink_tcp_v0');
    if (stripped) expect(r.stderr).toContain('laplink-qts: v0: TCP timestamps off on connections through the link');
  });

  it('the shaper runs at the rate the profile gives (HTB class or CAKE bandwidth, with 8 bytes of framing)', async () => {
    const root = await generate('qrate', 'queue: { rate: 40000 }\n');
    const r = await inNamespace(`${runParts(join(root, 'etc/ppp/ip-up.d'), 'qrate')}; show; tc class show dev v0`);
    const [s] = snapshots(r.stdout);
    if (s!.managedBy === 'cake') {
      expect(s!.rateBits).toBe(40000);
      expect(JSON.stringify(s!.qdiscs)).toBeTruthy();
    } else {
      expect(r.stdout).toMatch(/class htb 1:1 root leaf 10: .*rate 40Kbit overhead 8 ceil 40Kbit/);
    }
  });

  it('runs by hand with pppd\'s arguments (no pppd environment); refuses an interface that is no name', async () => {
    const root = await generate('qhand', '');
    const up = join(root, 'etc/ppp/ip-up.d/laplink-qhand');
    const down = join(root, 'etc/ppp/ip-down.d/laplink-qhand');
    const r = await inNamespace(`${up} v0 /dev/ttyS0 115200 192.168.7.2 192.168.7.1 ''; show
${down} v0; show
${up} '-v0'; echo "@exit $?"
${up} 'v0;reboot'; echo "@exit $?"; show`);
    const [up1, down1, after] = snapshots(r.stdout);
    expect(up1!.shaped).toBe(true);
    expect(down1!.shaped).toBe(false);
    expect([...r.stdout.matchAll(/^@exit (\d+)$/gm)].map((m) => m[1])).toEqual(['2', '2']);
    expect(r.stderr).toMatch(/laplink-qhand: usage: .* INTERFACE/);
    expect(after!.shaped).toBe(false);
  });

  it('ingress: shaped through an IFB device where the kernel can; otherwise nothing half-made is left; down removes the IFB', async () => {
    const root = await generate('qin', 'queue: { ingress: true }\n');
    const r = await inNamespace(`${runParts(join(root, 'etc/ppp/ip-up.d'), 'qin')}; show; echo "@ingress $(tc -j qdisc show dev v0 ingress)"
# what a kernel with every piece leaves up (made here by hand when this one could not), for down to remove
ip link show ifb4v0 > /dev/null 2>&1 || ip link add ifb4v0 type ifb; tc qdisc add dev v0 handle ffff: ingress 2>/dev/null; show
${runParts(join(root, 'etc/ppp/ip-down.d'), 'qin')}; show; echo "@ingress $(tc -j qdisc show dev v0 ingress)"`);
    expect(r.exitCode, r.stderr).toBe(0);
    const [linksUp, linksBeforeDown, linksDown] = linkLists(r.stdout);
    expect(linksBeforeDown).toContain('ifb4v0');
    const ingress = [...r.stdout.matchAll(/^@ingress (.*)$/gm)].map((m) => JSON.parse(m[1]!) as unknown[]);
    expect(snapshots(r.stdout)[0]!.shaped).toBe(true); // egress is shaped either way
    if (/receiving shaped at/.test(r.stderr)) {
      expect(linksUp).toContain('ifb4v0');
      expect(ingress[0]!.length).toBeGreaterThan(0);
    } else {
      // this kernel lacks a piece (here: no cls_matchall): the IFB and the ingress qdisc are gone again
      expect(r.stderr).toContain('laplink-qin: v0: what arrives is not shaped (needs ifb, sch_ingress, cls_matchall and act_mirred: laplink check)');
      expect(linksUp).not.toContain('ifb4v0');
      expect(ingress[0]).toEqual([]);
    }
    expect(linksDown).not.toContain('ifb4v0');
    expect(ingress[1]).toEqual([]);
  });

  it('remove of a link that is up runs its ip-down hook first: no qdisc and no IFB outlive it; a pid file naming another program is not taken for the link', async () => {
    const root = await generate('qrm', 'queue: { ingress: true }\n');
    const profile = join(root, 'p.yaml');
    await mkdir(join(root, 'var/run'), { recursive: true });
    const pidFile = join(root, 'var/run/ppp-qrm.pid');
    // stand-in for pppd (this kernel has no PPP): a process whose argv is a pppd's for this link, as
    // remove checks it, on a veth named in pppd's pid file
    const laplink = `node ${join(import.meta.dirname, '../../bin/laplink.js')}`;
    const r = await inNamespace(`${runParts(join(root, 'etc/ppp/ip-up.d'), 'qrm')}
ip link show ifb4v0 > /dev/null 2>&1 || ip link add ifb4v0 type ifb; show
python3 -c 'import time; time.sleep(30)' pppd call other-link & OTHER=$!
printf '%s\\nv0\\n' $OTHER > ${pidFile}
${laplink} remove --root ${root} --dry-run ${profile} | grep -c 'the link is up on' | sed 's/^/@would /'; show
python3 -c 'import time; time.sleep(30)' pppd call qrm & PPPD=$!
printf '%s\\nv0\\n' $PPPD > ${pidFile}
${laplink} remove --root ${root} --dry-run ${profile} | grep 'the link is up on' | sed 's/^/@would /'
${laplink} remove --root ${root} ${profile} | grep 'the link is up on' | sed 's/^/@removed /'; show
kill $OTHER $PPPD`);
    expect(r.exitCode, r.stderr).toBe(0);
    const [up, otherProgram, removed] = snapshots(r.stdout);
    const [linksUp, linksOther, linksRemoved] = linkLists(r.stdout);
    expect(up!.shaped).toBe(true);
    expect(linksUp).toContain('ifb4v0');
    // the pid file names a live process that is not this link's pppd: nothing is touched
    expect(r.stdout).toContain('@would 0');
    expect(otherProgram!.shaped).toBe(true);
    expect(linksOther).toContain('ifb4v0');
    expect(r.stdout).toMatch(/^@would the link is up on v0 \(pppd \d+\): queue management would be taken off/m);
    expect(r.stdout).toMatch(/^@removed the link is up on v0 \(pppd \d+\): queue management taken off it/m);
    expect(removed!.shaped).toBe(false);
    expect(linksRemoved).not.toContain('ifb4v0');
    await expect(readFile(join(root, 'etc/ppp/ip-down.d/laplink-qrm'))).rejects.toThrow(/ENOENT/);
  });

  it('with compression (the default, deflate) the shaper follows the ratio pppstats -r reports each second, clamped to 8x; the down hook ends the follower', async () => {
    const root = await generate('qcomp', '');
    expect(await readFile(join(root, 'etc/ppp/ip-up.d/laplink-qcomp'), 'utf8')).toContain('pppstats -r -w 1');
    // stand-in for pppstats (this kernel has no PPP, so the real one has no interface to read): it
    // prints what the test feeds it, as the real one prints a line a second; it is found first on
    // the hook's PATH through a bind mount in a private mount namespace
    const bin = join(root, 'fake-bin');
    const feed = join(root, 'feed');
    await mkdir(bin);
    await writeFile(join(bin, 'pppstats'), `#!/bin/sh\ncat ${feed}\n`, { mode: 0o755 });
    const base = autoRate(115200);
    const line = (ratio: string, bytes: number) => `echo "  1000  10  0  ${ratio}  ${bytes}  |  1000  10  0  ${ratio}  ${bytes}" >&3`;
    // the shaper's rate as tc prints it (CAKE's bandwidth, or the HTB class's rate where this kernel
    // has no sch_cake); \`changed\` waits (bounded) until it differs from the last one printed
    const script = `ip link add v0 type veth peer name v1 && ip link set v0 up && ip link set v1 up || exit 99
mount --bind ${bin} /usr/local/sbin || exit 98
now() { { tc qdisc show dev v0 | grep -o 'bandwidth [0-9]*bit'; tc class show dev v0 | grep -o ' rate [0-9]*bit'; } | grep -o '[0-9]*bit'; }
last=
changed() { i=0; while [ "$(now)" = "$last" ] && [ $i -lt 100 ]; do i=$((i+1)); sleep 0.1; done; last=$(now); echo "@rate $last"; }
mkfifo ${feed}
${join(root, 'etc/ppp/ip-up.d/laplink-qcomp')} v0
changed
exec 3> ${feed}
echo "      IN   PACK VJCOMP  RATIO  UBYTE  |      OUT   PACK VJCOMP  RATIO  UBYTE" >&3
${line('2.00', 500000)}
${line('9.00', 100)}
${line('3.00', 30000)}
changed
${line('20.00', 30000)}
changed
${line('1.00', 12000)}
changed
echo "@followers $(pgrep -fc 'pppstats -r -w 1 v0$')"
${join(root, 'etc/ppp/ip-down.d/laplink-qcomp')} v0
sleep 0.2; echo "@followers $(pgrep -fc 'pppstats -r -w 1 v0$')"`;
    const r = await execa('unshare', ['-n', '-m', 'sh', '-c', script], { reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
    const rates = [...String(r.stdout).matchAll(/^@rate (\d+)bit$/gm)].map((m) => Number(m[1]));
    // tc rounds a rate to its own units (HTB to 8 bit/s steps and a little more): within 0.5 %
    const near = (want: number) => expect.toSatisfy((got: number) => Math.abs(got - want) <= want * 0.005, `${Math.floor(want)} bit/s`);
    // the cumulative first line is not a second's ratio, and a second with under 1/4 s of line
    // (9.00 on 100 bytes) is too little to judge: only the 3.00 after them counts
    expect(rates).toEqual([near(base), near(base * 3), near(base * 8), near(base)]);
    expect(r.stderr).toContain('laplink-qcomp: v0: the shaper follows the compression ratio');
    expect([...String(r.stdout).matchAll(/^@followers (\d+)$/gm)].map((m) => m[1])).toEqual(['1', '0']);
  });

  it('compression none: no follower', async () => {
    const root = await generate('qplain', 'compression: none\n');
    expect(await readFile(join(root, 'etc/ppp/ip-up.d/laplink-qplain'), 'utf8')).not.toContain('pppstats');
  });

  it('a callers link (listen:) shapes each caller\'s interface: pppd runs it as NAME-cN; anything else after NAME-c is another link', async () => {
    const root = await mkdtemp(join(dir, 'qcall-'));
    const profile = join(root, 'p.yaml');
    await writeFile(profile, 'name: qcall\nrole: server\nlisten: 127.0.0.1:2323\nlocalIp: 192.168.8.1\nremoteIp: 192.168.8.10-192.168.8.20\nauth: { require: none }\nsystemd: false\n');
    await generateLink(profile, { root, laplinkArgv: ARGV });
    const plain = await generate('qsolo', '');
    const up = (r: string, linkname: string) => `${runParts(join(r, 'etc/ppp/ip-up.d'), linkname)}; show; ${runParts(join(r, 'etc/ppp/ip-down.d'), linkname)}`;
    const r = await inNamespace(`${up(root, 'qcall-c3')}
${up(root, 'qcall-c3x')}
${up(root, 'qcall-cx')}
${up(root, 'qcall')}
${up(plain, 'qsolo-c3')}`);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(snapshots(r.stdout).map((q) => q.shaped)).toEqual([true, false, false, true, false]);
  });

  it('queue: off writes no hook', async () => {
    const root = await generate('qoff', 'queue: off\n');
    await expect(readFile(join(root, 'etc/ppp/ip-up.d/laplink-qoff'))).rejects.toThrow(/ENOENT/);
    await expect(readFile(join(root, 'etc/ppp/ip-down.d/laplink-qoff'))).rejects.toThrow(/ENOENT/);
  });
});

describe('gateway MSS clamp (real nft -c -f)', () => {
  it('clamps the SYNs to and from the peer to the route MTU; nft accepts the file and refuses a broken clamp', async () => {
    const root = await mkdtemp(join(dir, 'mss-'));
    const profile = join(root, 'p.yaml');
    await writeFile(profile, `name: p-mss\nrole: server\ndevice: /dev/ttyS0\nlocalIp: 192.168.7.1\nremoteIp: 192.168.7.2\nauth: { require: none }\ngateway: { uplink: eth0, dns: none }\nipv6: { localId: '::1', remoteId: '::2', prefix: 'fd00:7::/64' }\n`);
    await generateLink(profile, { root, laplinkArgv: ARGV });
    const nft = join(root, 'etc/nftables.d/laplink-p-mss.nft');
    const text = await readFile(nft, 'utf8');
    expect(text).toContain('ip saddr 192.168.7.2 tcp flags syn tcp option maxseg size set rt mtu');
    expect(text).toContain('ip daddr 192.168.7.2 tcp flags syn tcp option maxseg size set rt mtu');
    expect(text).toContain('ip6 daddr fd00:7::2/128 tcp flags syn tcp option maxseg size set rt mtu');
    const ok = await execa('/usr/sbin/nft', ['-c', '-f', nft], { reject: false });
    expect(ok.exitCode, `nft said:\n${ok.stderr}`).toBe(0);
    const broken = join(root, 'broken.nft');
    await writeFile(broken, text.replace('maxseg size set rt mtu', 'maxseg size set rt mtux'));
    const bad = await execa('/usr/sbin/nft', ['-c', '-f', broken], { reject: false });
    expect(bad.exitCode).toBe(1);
  });
});
