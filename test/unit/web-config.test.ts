/**
 * The `web:` section of a `bridge run` config: defaults, and each problem at its FILE:LINE:COL
 * before anything listens.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadBridgeConfig } from '../../src/bridge/config.js';
import { hashPassword } from '../../src/web/password.js';

const dir = mkdtempSync(join(tmpdir(), 'laplink-web-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function load(text: string) {
  const file = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, text);
  return loadBridgeConfig(file);
}

const PORTS = 'ports:\n  - device: /dev/ttyS0\n';

describe('bridge config web:', () => {
  it('defaults to loopback 8470 and the supervisors\' state directory', async () => {
    const cfg = await load(`control: 2000\nweb: {}\n${PORTS}`);
    expect(cfg.web).toEqual({ listen: { host: '127.0.0.1', port: 8470 }, stateDir: '/run/laplink', maxSockets: 64 });
  });

  it('takes a password hash, TLS as a port does, and recording', async () => {
    const hash = await hashPassword('pw');
    const cfg = await load(`control: 2000\nweb:\n  listen: 0.0.0.0:8443\n  passwordHash: "${hash}"\n  tls: { cert: a.crt, key: a.key }\n  record: { dir: /var/log/casts }\n${PORTS}`);
    expect(cfg.web).toMatchObject({ listen: { host: '0.0.0.0', port: 8443 }, passwordHash: hash, tls: { cert: 'a.crt', key: 'a.key' }, record: { dir: '/var/log/casts', maxBytes: 8 << 20, keep: 10 } });
  });

  it('takes the client identity consoles dial TLS ports with, and says what is missing from it', async () => {
    const cfg = await load(`control: 2000\nweb:\n  bridgeTls: { ca: ca.crt, cert: web.crt, key: web.key }\n${PORTS}`);
    expect(cfg.web?.bridgeTls).toEqual({ ca: 'ca.crt', cert: 'web.crt', key: 'web.key' });
    await expect(load(`control: 2000\nweb:\n  bridgeTls: { cert: web.crt }\n${PORTS}`)).rejects.toThrow(/:3:14: web\.bridgeTls: cert and key go together/);
    await expect(load(`control: 2000\nweb:\n  bridgeTls: { pin: [CN=port] }\n${PORTS}`)).rejects.toThrow(/web\.bridgeTls: pin: CN=port: a pin is a fingerprint/);
  });

  it('takes named users with their write rule (default when-free), and lets one with a password open a network listener', async () => {
    const hash = await hashPassword('pw');
    const cfg = await load(`control: 2000\nweb:\n  listen: 0.0.0.0:8470\n  users:\n    - { name: alice, passwordHash: "${hash}", write: always }\n    - { name: bob.smith, passwordHash: "${hash}" }\n${PORTS}`);
    expect(cfg.web?.users).toEqual([
      { name: 'alice', passwordHash: hash, write: 'always' },
      { name: 'bob.smith', passwordHash: hash, write: 'when-free' },
    ]);
    await expect(load(`control: 2000\nweb:\n  users:\n    - { name: alice, write: sometimes }\n${PORTS}`)).rejects.toThrow(/:4:29: web\.users\[0\]\.write: not an allowed value \(allowed: always, when-free, never\)/);
    await expect(load(`control: 2000\nweb:\n  users:\n    - { name: alice }\n    - { name: alice }\n${PORTS}`)).rejects.toThrow(/:5:15: web\.users\[1\]\.name: alice is named twice/);
    await expect(load(`control: 2000\nweb:\n  users:\n    - { name: "-o" }\n${PORTS}`)).rejects.toThrow(/web\.users\[0\]\.name: not a user name/);
  });

  it('takes a failed-login limit per address, in whole seconds', async () => {
    const cfg = await load(`control: 2000\nweb:\n  loginLimit: { failures: 3, window: 60 }\n${PORTS}`);
    expect(cfg.web?.loginLimit).toEqual({ failures: 3, window: 60 });
    await expect(load(`control: 2000\nweb:\n  loginLimit: { failures: 0, window: 60 }\n${PORTS}`)).rejects.toThrow(/web\.loginLimit\.failures/);
  });

  it('reports each problem at its line: no control port, a network address without a login, a bad hash, a bad address, an unknown key', async () => {
    await expect(load(`web: {}\n${PORTS}`)).rejects.toThrow(/:1:6: web: the web pages read the ports through the control port \(allowed: with a control: section\)/);
    await expect(load(`control: 2000\nweb:\n  listen: 0.0.0.0:8470\n${PORTS}`)).rejects.toThrow(/:3:11: web\.listen: 0\.0\.0\.0 is not a loopback address: a console reachable from the network needs passwordHash or client certificates/);
    await expect(load(`control: 2000\nweb:\n  passwordHash: hunter2\n${PORTS}`)).rejects.toThrow(/:3:17: web\.passwordHash: not an scrypt hash/);
    await expect(load(`control: 2000\nweb:\n  listen: 99999\n${PORTS}`)).rejects.toThrow(/:3:11: web\.listen: port 99999 is out of range/);
    await expect(load(`control: 2000\nweb:\n  password: hunter2\n${PORTS}`)).rejects.toThrow(/web.*password/);
  });
});
