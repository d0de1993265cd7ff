import { execa } from 'execa';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXTRA_OPTIONS } from '../../src/profile/pppd-options.js';
import { generateLink } from '../../src/render/generate.js';
import { laplinkArgv } from '../../src/paths.js';
import { realpathSync } from 'node:fs';
import { startPtyPair, type PtyPair } from '../helpers/ptypair.js';

/**
 * Real /usr/sbin/pppd reads every options file before it checks the kernel. This kernel has no
 * PPP (no /dev/ppp), so pppd exits 4 (EXIT_NO_KERNEL_SUPPORT) exactly when all options parsed,
 * and 2 (EXIT_OPTION_ERROR) on an unknown option or bad argument. A negotiated link is the lab's
 * job (qemu guests with a PPP kernel); here we prove our generated files are valid pppd input.
 */
const PPPD = '/usr/sbin/pppd';
let dir: string;
let cable: PtyPair | undefined;
let tty: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'laplink-pppd-'));
  // A pty pair stands in for the cable: pppd stats the device while parsing, so it must exist.
  cable = await startPtyPair();
  tty = realpathSync(cable.a); // the /dev/pts/N name, as a real serial device would be named
});

afterAll(async () => {
  await cable?.close();
  await rm(dir, { recursive: true, force: true });
});

async function pppd(files: string[]) {
  const args = files.flatMap((f) => ['file', f]);
  return execa(PPPD, [...args, 'nodetach'], { reject: false, timeout: 20_000 });
}

const allExtra = Object.entries(EXTRA_OPTIONS).map(([name, spec]) =>
  spec.kind === 'none' ? name : spec.kind === 'int' ? `${name} ${spec.min === 0 ? 1 : spec.min}` : spec.kind === 'hex32' ? `${name} 0` : `${name} 10.0.0.53`,
).filter((o) => o !== 'noipv6' && o !== 'nolog'); // each conflicts with a sibling in the same file; checked on their own below

const variants: Record<string, (tty: string) => string> = {
  server: (t) => `name: p-server\nrole: server\ndevice: ${t}\nlocalIp: 192.168.7.1\nremoteIp: 192.168.7.2\nlcpEcho: { interval: 1, failures: 3 }\nmtu: 1500\nidle: 600\nauth:\n  login: true\n  users:\n    - { name: zaphod, password: "gargle \\"Blaster\\"" }\n    - { name: "*" }\n`,
  client: (t) => `name: p-client\nrole: client\ndevice: ${t}\nflow: xonxoff\nmodemLines: true\nlocalIp: 192.168.7.2\nremoteIp: 192.168.7.1\ndefaultRoute: true\nauth: { user: zaphod, password: "x y" }\n`,
  'windows-server': (t) => `name: p-winserver\nrole: server\npeer: windows\ndevice: ${t}\nflow: none\nlocalIp: 192.168.7.1\nremoteIp: 192.168.7.2\nauth: { require: chap, users: [{ name: labuser, password: labpass }] }\nmasquerade: { outInterface: eth0 }\n`,
  'windows-client-chat': (t) => `name: p-winclient\nrole: client\npeer: windows\ndevice: ${t}\nlocalIp: 192.168.7.2\nremoteIp: 192.168.7.1\nhandshake: { engine: chat }\nauth: { user: labuser, passwordFile: /etc/ppp/labuser.secret }\n`,
  bridge: () => `name: p-bridge\nrole: client\nbridge: 127.0.0.1:4001\nflow: none\nlocalIp: 192.168.7.2\nremoteIp: 192.168.7.1\n`,
  'every-extra-option': (t) => `name: p-extra\nrole: server\ndevice: ${t}\nlocalIp: 192.168.7.1\nremoteIp: 192.168.7.2\nauth: { require: none }\nextraOptions:\n${allExtra.map((o) => `  - "${o}"`).join('\n')}\n`,
  'no-compression': (t) => `name: p-nocomp\nrole: client\ndevice: ${t}\nlocalIp: 192.168.7.2\nremoteIp: 192.168.7.1\ncompression: none\nvjCompression: false\n`,
  ipv6: (t) => `name: p-ipv6\nrole: server\ndevice: ${t}\nlocalIp: 192.168.7.1\nremoteIp: 192.168.7.2\nauth: { require: none }\nmasquerade: { outInterface: eth0 }\nipv6: { localId: '::1', remoteId: '::2', prefix: 'fd00:7::/64' }\n`,
  'noipv6-nolog': (t) => `name: p-extra2\nrole: client\ndevice: ${t}\nlocalIp: 192.168.7.2\nremoteIp: 192.168.7.1\nextraOptions: [noipv6, nolog]\n`,
};

describe('real pppd parses the generated options files (exit 4 = parsed, no kernel PPP here)', () => {
  for (const [variant, text] of Object.entries(variants)) {
    it(`${variant}: peers file (+ options.<tty>) parse; the same file with one typo gives exit 2`, async () => {
      const root = await mkdtemp(join(dir, `${variant}-`));
      const profile = join(root, 'profile.yaml');
      await writeFile(profile, text(tty));
      // generate refuses a passwordFile the target system lacks: give it one under the root
      const secretFile = /passwordFile: (\S+) /.exec(text(tty))?.[1];
      if (secretFile) {
        await mkdir(dirname(join(root, secretFile)), { recursive: true });
        await writeFile(join(root, secretFile), 'labpass\n', { mode: 0o600 });
      }
      const { changes, profile: p } = await generateLink(profile, { root, laplinkArgv: laplinkArgv() });
      const peers = join(root, 'etc/ppp/peers', p.name);
      const files = [peers];
      const ttyOptions = changes.find((c) => c.path.startsWith('/etc/ppp/options.'));
      if (ttyOptions) files.push(ttyOptions.fsPath);

      const good = await pppd(files);
      expect(good.exitCode, `pppd said:\n${good.stderr}`).toBe(4);
      expect(good.stderr).toMatch(/\/dev\/ppp/);

      const broken = join(root, 'broken');
      await writeFile(broken, (await readFile(peers, 'utf8')).replace(/^asyncmap 0$/m, 'asyncmapp 0'));
      const bad = await pppd([broken]);
      expect(bad.exitCode).toBe(2);
      expect(bad.stderr).toMatch(/unrecognized option 'asyncmapp'/);
    });
  }
});
