import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { parseProfile } from '../../src/profile/load.js';
import { renderProfile, type RenderedFile } from '../../src/render/render.js';
import { readHostResolvers } from '../../src/render/resolvers.js';

/**
 * The fields Windows peers need: MS-CHAP kinds, auth.accept, MPPE, gateway, usePeerDns. What
 * pppd sees is asserted line by line; that pppd accepts it is test/interop/windows-pppd-parse.test.ts.
 */
const argv = ['/usr/bin/node', '/opt/ppp-laplink/bin/laplink.js'];
const server = (extra: string, auth = 'auth: { require: mschap-v2, users: [{ name: labuser, password: labpass }] }') =>
  `name: w-server\nrole: server\ndevice: /dev/ttyS0\nlocalIp: 192.168.7.1\nremoteIp: 192.168.7.2\n${auth}\n${extra}`;
const client = (extra: string, auth = 'auth: { user: labuser, password: labpass, accept: [mschap-v2] }') =>
  `name: w-client\nrole: client\ndevice: /dev/ttyS0\nlocalIp: 192.168.7.2\nremoteIp: 192.168.7.1\n${auth}\n${extra}`;

function render(text: string, hostResolvers?: () => string[]): RenderedFile[] {
  return renderProfile(parseProfile(text, 'w.yaml'), { profilePath: '/etc/laplink/w.yaml', laplinkArgv: argv, ...(hostResolvers ? { hostResolvers } : {}) });
}
const peers = (files: RenderedFile[]) => files.find((f) => f.path.startsWith('/etc/ppp/peers/'))!.content.split('\n');
const paths = (files: RenderedFile[]) => files.map((f) => f.path);

function problems(text: string): string {
  try {
    parseProfile(text, 'w.yaml');
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.join('\n');
    throw err;
  }
  return '(no error)';
}

describe('authentication kinds', () => {
  it('server mschap-v2: require-mschap-v2, the user in chap-secrets, no pap-secrets', () => {
    const files = render(server(''));
    expect(peers(files)).toEqual(expect.arrayContaining(['auth', 'require-mschap-v2']));
    expect(paths(files)).toContain('/etc/ppp/chap-secrets');
    expect(paths(files)).not.toContain('/etc/ppp/pap-secrets');
    expect(files.find((f) => f.path === '/etc/ppp/chap-secrets')!.content).toContain('labuser\t*\t"labpass"\t192.168.7.2');
  });

  it('server mschap: require-mschap', () => {
    expect(peers(render(server('', 'auth: { require: mschap, users: [{ name: u, password: p }] }')))).toContain('require-mschap');
  });

  it('client accept [mschap-v2]: refuses pap, chap, mschap and eap, not mschap-v2; secret in chap-secrets', () => {
    const lines = peers(render(client('')));
    expect(lines).toEqual(expect.arrayContaining(['refuse-pap', 'refuse-chap', 'refuse-mschap', 'refuse-eap', 'user labuser', 'noauth']));
    expect(lines).not.toContain('refuse-mschap-v2');
    expect(paths(render(client('')))).toEqual(expect.arrayContaining(['/etc/ppp/chap-secrets']));
    expect(paths(render(client('')))).not.toContain('/etc/ppp/pap-secrets');
  });

  it('client accept [pap, mschap-v2]: the secret in both files, only chap and mschap refused', () => {
    const files = render(client('', 'auth: { user: labuser, password: labpass, accept: [pap, mschap-v2] }'));
    expect(paths(files)).toEqual(expect.arrayContaining(['/etc/ppp/chap-secrets', '/etc/ppp/pap-secrets']));
    expect(peers(files).filter((l) => l.startsWith('refuse-'))).toEqual(['refuse-chap', 'refuse-mschap', 'refuse-eap']);
  });

  it('a client without accept refuses nothing (as before)', () => {
    expect(peers(render(client('', 'auth: { user: labuser, password: labpass }'))).filter((l) => l.startsWith('refuse-'))).toEqual([]);
  });

  it('rejects accept on a server, an unknown kind, login with MS-CHAP, and auth options in extraOptions', () => {
    expect(problems(server('', 'auth: { require: mschap-v2, accept: [pap], users: [{ name: u, password: p }] }'))).toMatch(/auth\.accept: is a client field/);
    expect(problems(client('', 'auth: { user: u, password: p, accept: [ntlm] }'))).toMatch(/auth\.accept\[0\]: not an allowed value \(allowed: pap, chap, mschap, mschap-v2\)/);
    expect(problems(server('', 'auth: { require: mschap-v2, login: true, users: [{ name: u }] }'))).toMatch(/auth\.login: pppd checks the system password file only for PAP/);
    expect(problems(server('extraOptions: [require-mschap-v2]\n'))).toMatch(/extraOptions\[0\]: option "require-mschap-v2" is not allowed: it is managed by laplink \(set auth\.require instead\)/);
    expect(problems(client('extraOptions: [refuse-pap]\n'))).toMatch(/option "refuse-pap" is not allowed: .*set auth\.accept instead/);
    expect(problems(server('extraOptions: [require-mppe-128]\n'))).toMatch(/option "require-mppe-128" is not allowed: .*set encrypt instead/);
    expect(problems(server('extraOptions: [noccp]\n'))).toMatch(/option "noccp" is not allowed/);
  });
});

describe('MPPE', () => {
  it('mppe-128 on an MS-CHAP v2 server: require-mppe-128 and CCP on (no noccp), other compressors off', () => {
    const lines = peers(render(server('encrypt: mppe-128\n')));
    expect(lines).toEqual(expect.arrayContaining(['require-mppe-128', 'nobsdcomp', 'nodeflate']));
    expect(lines).not.toContain('noccp');
  });

  it('mppe and mppe-40 map to require-mppe and require-mppe-40; none leaves CCP to the compression field', () => {
    expect(peers(render(server('encrypt: mppe\n')))).toContain('require-mppe');
    expect(peers(render(server('encrypt: mppe-40\n', 'auth: { require: mschap, users: [{ name: u, password: p }] }')))).toContain('require-mppe-40');
    expect(peers(render(server('')))).toContain('deflate 15');
    expect(peers(render(server('')))).not.toContain('require-mppe');
    expect(peers(render(server('compression: none\n')))).toContain('noccp');
    // MPPE wins over the deflate default: pppd refuses other compression beside it
    expect(peers(render(server('encrypt: mppe\n')))).toContain('nodeflate');
    expect(peers(render(server('encrypt: mppe\n')))).not.toContain('deflate 15');
  });

  it('a client accepting only MS-CHAP kinds may require MPPE', () => {
    expect(peers(render(client('encrypt: mppe-128\n', 'auth: { user: u, password: p, accept: [mschap, mschap-v2] }')))).toContain('require-mppe-128');
  });

  it('is refused without MS-CHAP, naming the encrypt field', () => {
    expect(problems(server('encrypt: mppe-128\n', 'auth: { require: pap, users: [{ name: u, password: p }] }'))).toMatch(/w\.yaml:\d+:\d+: encrypt: MPPE keys come from MS-CHAP, but auth\.require is pap \(allowed: auth\.require: mschap or mschap-v2/);
    expect(problems(server('encrypt: mppe-128\n', 'auth: { require: chap, users: [{ name: u, password: p }] }'))).toMatch(/encrypt: MPPE keys come from MS-CHAP, but auth\.require is chap/);
    expect(problems(client('encrypt: mppe-128\n', 'auth: { user: u, password: p, accept: [chap, mschap-v2] }'))).toMatch(/encrypt: MPPE keys come from MS-CHAP, but this client would also authenticate with chap/);
    expect(problems(client('encrypt: mppe-128\n', 'auth: { user: u, password: p }'))).toMatch(/encrypt: MPPE keys come from MS-CHAP, but this client would also authenticate with pap/);
    expect(problems(server('encrypt: optional\n'))).toMatch(/encrypt: not an allowed value \(allowed: none, mppe, mppe-40, mppe-128\)/);
  });
});

describe('gateway', () => {
  let dir: string;
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'laplink-resolv-')); });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  it('given addresses become ms-dns; proxyArp becomes proxyarp; nft without oifname for the default uplink', () => {
    const files = render(server('gateway: { dns: [192.168.1.1, 9.9.9.9], proxyArp: true }\n'));
    const lines = peers(files);
    expect(lines).toEqual(expect.arrayContaining(['ms-dns 192.168.1.1', 'ms-dns 9.9.9.9', 'proxyarp']));
    const nft = files.find((f) => f.path === '/etc/nftables.d/laplink-w-server.nft')!.content;
    expect(nft).toContain('table inet laplink_w_server {');
    expect(nft).toMatch(/^\t\tip saddr 192\.168\.7\.2 counter masquerade$/m);
    expect(paths(files)).toContain('/etc/sysctl.d/60-laplink-w-server.conf');
  });

  it('a named uplink masquerades only through it; dns: none writes no ms-dns', () => {
    const files = render(server('gateway: { uplink: wlan0, dns: none }\n'));
    expect(files.find((f) => f.path.endsWith('.nft'))!.content).toMatch(/^\t\tip saddr 192\.168\.7\.2 oifname "wlan0" counter masquerade$/m);
    expect(peers(files).filter((l) => l.startsWith('ms-dns'))).toEqual([]);
  });

  it('dns: host takes this machine\'s resolvers at render time', () => {
    expect(peers(render(server('gateway: {}\n'), () => ['10.1.1.1']))).toContain('ms-dns 10.1.1.1');
  });

  it('the old masquerade: spelling still renders the same nft, and no DNS lines', () => {
    const files = render(server('masquerade: { outInterface: eth0 }\n'));
    expect(files.find((f) => f.path.endsWith('.nft'))!.content).toContain('oifname "eth0" counter masquerade');
    expect(peers(files).some((l) => l.startsWith('ms-dns'))).toBe(false);
  });

  it('rejects a client gateway, both spellings, injection in uplink and dns, a peer by name', () => {
    expect(problems(client('gateway: {}\n'))).toMatch(/gateway: only a server shares its internet/);
    expect(problems(server('gateway: {}\nmasquerade: { outInterface: eth0 }\n'))).toMatch(/masquerade: is the old spelling of gateway; give one of them/);
    expect(problems(server('gateway: { uplink: "eth0\\" accept #" }\n'))).toMatch(/gateway\.uplink: not a network interface name/);
    expect(problems(server('gateway: { dns: ["1.1.1.1\\nplugin evil.so"] }\n'))).toMatch(/gateway\.dns(\[0\])?: not a/);
    expect(problems(server('gateway: { dns: [1.1.1.1, 2.2.2.2, 3.3.3.3] }\n'))).toMatch(/gateway\.dns/);
    expect(problems(server('gateway: {}\n').replace('remoteIp: 192.168.7.2', 'remoteIp: laptop'))).toMatch(/remoteIp: gateway needs the peer as an address/);
    expect(problems(server('usePeerDns: true\n'))).toMatch(/usePeerDns: is a client field/);
  });

  it('client usePeerDns and defaultRoute: usepeerdns and defaultroute', () => {
    const lines = peers(render(client('usePeerDns: true\ndefaultRoute: true\n')));
    expect(lines).toEqual(expect.arrayContaining(['usepeerdns', 'defaultroute']));
  });

  it('host resolvers: a plain list; a stub replaced by systemd-resolved\'s upstream; at most two IPv4', async () => {
    const f = async (name: string, text: string) => { const p = join(dir, name); await writeFile(p, text); return p; };
    const plain = await f('plain', '# comment\nsearch lan\nnameserver 192.168.1.1\nnameserver fe80::1\nnameserver 1.1.1.1\nnameserver 8.8.8.8\n');
    expect(readHostResolvers({ resolvConf: plain, upstreamResolvConf: join(dir, 'none') })).toEqual(['192.168.1.1', '1.1.1.1']);
    const stub = await f('stub', 'nameserver 127.0.0.53\noptions edns0 trust-ad\n');
    const upstream = await f('upstream', 'nameserver 10.0.0.1\n');
    expect(readHostResolvers({ resolvConf: stub, upstreamResolvConf: upstream })).toEqual(['10.0.0.1']);
    expect(() => readHostResolvers({ resolvConf: stub, upstreamResolvConf: join(dir, 'missing') })).toThrow(/gateway\.dns: host, but .*stub names no IPv4 resolver the peer can reach .*\(allowed: dns: \[one or two IPv4 addresses\], or none\)/);
    expect(() => readHostResolvers({ resolvConf: join(dir, 'missing'), upstreamResolvConf: upstream })).toThrow(/gateway\.dns: host, but .*missing cannot be read/);
  });
});

describe('a server with a handshake is not silent', () => {
  // A silent pppd sends no LCP until the peer's arrives, and nothing ends that wait: after a
  // handshake whose answer the peer missed (its chat ended, its pppd restarted), the peer asks
  // again for ever and the link never comes up. Lab scenario 11 plays that peer.
  it('a DCC host and a modem answerer start LCP themselves; a plain server still waits silently', () => {
    expect(peers(render(server('peer: windows')))).not.toContain('silent');
    expect(peers(render(server('peer: dialup')))).not.toContain('silent');
    expect(peers(render(server('')))).toContain('silent');
    expect(peers(render(client('peer: windows')))).not.toContain('silent');
  });
});
