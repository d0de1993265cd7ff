import { execa } from 'execa';
import { realpathSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { laplinkArgv } from '../../src/paths.js';
import { generateLink } from '../../src/render/generate.js';
import { startPtyPair, type PtyPair } from '../helpers/ptypair.js';

/**
 * The Windows fields' output read by the real tools: pppd 2.4.9 parses every options file before
 * it checks the kernel, so exit 4 (no kernel PPP on this host) means every option was accepted and
 * exit 2 that one was not (see generate-pppd-parse.test.ts). The gateway's nft file is checked by
 * the real `nft -c -f` (parse and evaluate, nothing committed). A missing tool fails the test.
 */
const PPPD = '/usr/sbin/pppd';
const NFT = '/usr/sbin/nft';
let dir: string;
let cable: PtyPair | undefined;
let tty: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'laplink-winparse-'));
  cable = await startPtyPair();
  tty = realpathSync(cable.a);
});
afterAll(async () => {
  await cable?.close();
  await rm(dir, { recursive: true, force: true });
});

const users = '[{ name: labuser, password: "pass word" }]';
const variants: Record<string, { text: (t: string) => string; option: string }> = {
  'mschap-v2 server, MPPE-128, gateway with DNS and proxy ARP': {
    text: (t) => `name: p-ms2\nrole: server\npeer: windows\ndevice: ${t}\nflow: none\nlocalIp: 192.168.7.1\nremoteIp: 192.168.7.2\nauth: { require: mschap-v2, users: ${users} }\nencrypt: mppe-128\ngateway: { uplink: eth0, dns: [192.168.7.1, 9.9.9.9], proxyArp: true }\n`,
    option: 'require-mppe-128',
  },
  'mschap server, any MPPE strength': {
    text: (t) => `name: p-ms1\nrole: server\ndevice: ${t}\nlocalIp: 192.168.7.1\nremoteIp: 192.168.7.2\nauth: { require: mschap, users: ${users} }\nencrypt: mppe\n`,
    option: 'require-mschap',
  },
  'client accepting only mschap-v2, MPPE-40, peer DNS, default route': {
    text: (t) => `name: p-msc\nrole: client\ndevice: ${t}\nlocalIp: 192.168.7.2\nremoteIp: 192.168.7.1\nauth: { user: labuser, password: x, accept: [mschap-v2] }\nencrypt: mppe-40\nusePeerDns: true\ndefaultRoute: true\n`,
    option: 'refuse-mschap',
  },
  'client accepting pap and chap': {
    text: (t) => `name: p-pc\nrole: client\ndevice: ${t}\nlocalIp: 192.168.7.2\nremoteIp: 192.168.7.1\nauth: { user: labuser, password: x, accept: [pap, chap] }\n`,
    option: 'refuse-mschap-v2',
  },
};

describe('real pppd parses the Windows fields (exit 4 = parsed)', () => {
  for (const [name, v] of Object.entries(variants)) {
    it(`${name}: parses; the same file with ${v.option} misspelt gives exit 2`, async () => {
      const root = await mkdtemp(join(dir, 'r-'));
      const profile = join(root, 'profile.yaml');
      await writeFile(profile, v.text(tty));
      const { changes, profile: p } = await generateLink(profile, { root, laplinkArgv: laplinkArgv() });
      const peers = join(root, 'etc/ppp/peers', p.name);
      const text = await readFile(peers, 'utf8');
      expect(text).toMatch(new RegExp(`^${v.option}$`, 'm'));
      const files = [peers, ...changes.filter((c) => c.path.startsWith('/etc/ppp/options.')).map((c) => c.fsPath)];
      const good = await execa(PPPD, [...files.flatMap((f) => ['file', f]), 'nodetach'], { reject: false, timeout: 20_000 });
      expect(good.exitCode, `pppd said:\n${good.stderr}`).toBe(4);
      const broken = join(root, 'broken');
      await writeFile(broken, text.replace(new RegExp(`^${v.option}$`, 'm'), `${v.option}x`));
      const bad = await execa(PPPD, ['file', broken, 'nodetach'], { reject: false, timeout: 20_000 });
      expect(bad.exitCode).toBe(2);
      expect(bad.stderr).toContain(`unrecognized option '${v.option}x'`);
    });
  }
});

describe('real nft checks the gateway rules (nft -c -f)', () => {
  it('dual stack: the peer\'s ULA address and routed ULA prefix get ip6 masquerade rules nft accepts', async () => {
    const root = await mkdtemp(join(dir, 'nft6-'));
    const profile = join(root, 'profile.yaml');
    await writeFile(profile, `name: p-gw6\nrole: server\ndevice: /dev/ttyS0\nlocalIp: 192.168.7.1\nremoteIp: 192.168.7.2\nauth: { require: none }\ngateway: { uplink: eth0, dns: none }\nipv6: { localId: '::1', remoteId: '::2', prefix: 'fd00:7::/64', routedPrefix: 'fd00:77::/64' }\n`);
    await generateLink(profile, { root, laplinkArgv: laplinkArgv() });
    const nft = join(root, 'etc/nftables.d/laplink-p-gw6.nft');
    const text = await readFile(nft, 'utf8');
    expect(text).toContain('ip6 saddr fd00:7::2/128 oifname "eth0" counter masquerade');
    expect(text).toContain('ip6 saddr fd00:77::/64 oifname "eth0" counter masquerade');
    const ok = await execa(NFT, ['-c', '-f', nft], { reject: false });
    expect(ok.exitCode, `nft said:\n${ok.stderr}`).toBe(0);
  });

  for (const uplink of ['eth0', 'default']) {
    it(`uplink ${uplink}: the generated file is valid nftables input; a broken copy is not`, async () => {
      const root = await mkdtemp(join(dir, 'nft-'));
      const profile = join(root, 'profile.yaml');
      await writeFile(profile, `name: p-gw\nrole: server\ndevice: /dev/ttyS0\nlocalIp: 192.168.7.1\nremoteIp: 192.168.7.2\nauth: { require: none }\ngateway: { uplink: ${uplink}, dns: none }\n`);
      await generateLink(profile, { root, laplinkArgv: laplinkArgv() });
      const nft = join(root, 'etc/nftables.d/laplink-p-gw.nft');
      const ok = await execa(NFT, ['-c', '-f', nft], { reject: false });
      expect(ok.exitCode, `nft said:\n${ok.stderr}`).toBe(0);
      const broken = join(root, 'broken.nft');
      await writeFile(broken, (await readFile(nft, 'utf8')).replace('counter masquerade', 'counter masquerad'));
      const bad = await execa(NFT, ['-c', '-f', broken], { reject: false });
      expect(bad.exitCode).toBe(1);
      expect(bad.stderr).toMatch(/syntax error/);
    });
  }
});
