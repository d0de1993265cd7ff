/**
 * `bridge run` config: addresses through the one HOST:PORT parser and `tls:` blocks, each problem
 * reported at its FILE:LINE:COL before anything listens.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadBridgeConfig } from '../../src/bridge/config.js';
import { parseListenAddress, parseTargetAddress } from '../../src/listen/address.js';

const dir = mkdtempSync(join(tmpdir(), 'laplink-tls-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function load(text: string) {
  const file = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, text);
  return loadBridgeConfig(file);
}

const FP = `sha256:${'ab'.repeat(32)}`;

describe('bridge config addresses', () => {
  it('refuses listen: 99999 at its line and column (the old regex let it through to fail at start)', async () => {
    await expect(load('ports:\n  - device: /dev/ttyS0\n    listen: 99999\n')).rejects.toThrow(/:3:13: ports\[0\]\.listen: port 99999 is out of range 0-65535/);
    await expect(load('control: 127.0.0.1:70000\nports:\n  - device: /dev/ttyS0\n')).rejects.toThrow(/:1:10: control(\.listen)?: port 70000 is out of range/);
    await expect(load('ports:\n  - {device: /dev/ttyS0, listen: "[::1]:4001"}\nrotators:\n  - {name: r, listen: "host:", ports: [/dev/ttyS0]}\n')).rejects.toThrow(/:4:.*rotators\[0\]\.listen: "host:" is not \[HOST:\]PORT/);
  });

  it('reads [HOST:]PORT once, for every listener', async () => {
    const cfg = await load('control: 2000\nports:\n  - device: /dev/ttyS0\n    listen: "[::1]:4001"\n');
    expect(cfg.ports[0]!.listen).toEqual({ host: '::1', port: 4001 });
    expect(cfg.control?.listen).toEqual({ host: '127.0.0.1', port: 2000 });
    expect(parseListenAddress(0)).toEqual({ host: '127.0.0.1', port: 0 });
    expect(() => parseTargetAddress('host:0')).toThrow('port 0 is out of range 1-65535');
    expect(() => parseTargetAddress('4001')).toThrow('"4001" is not HOST:PORT');
  });
});

describe('bridge config tls:', () => {
  const port = (tls: string) => `ports:\n  - device: /dev/ttyS0\n    listen: 4001\n    tls:\n${tls}`;

  it('takes cert, key, ca, clientCert and allow', async () => {
    const cfg = await load(port(`      cert: /etc/laplink/port.crt\n      key: /etc/laplink/port.key\n      ca: /etc/laplink/ca.crt\n      clientCert: required\n      allow: [CN=laptop, "${FP}"]\n`));
    expect(cfg.ports[0]!.tls).toEqual({ cert: '/etc/laplink/port.crt', key: '/etc/laplink/port.key', ca: '/etc/laplink/ca.crt', clientCert: 'required', allow: ['CN=laptop', FP] });
  });

  it('refuses a CN=NAME entry without a CA (anyone can self-sign any name), at the allow field', async () => {
    await expect(load(port(`      cert: a.crt\n      key: a.key\n      allow: [CN=laptop]\n`))).rejects.toThrow(/:7:\d+: ports\[0\]\.tls\.allow: CN=laptop: a CN=NAME entry needs a ca file/);
  });

  it('refuses client certificates with nothing to check them against, a malformed fingerprint, an unknown policy', async () => {
    await expect(load(port(`      cert: a.crt\n      key: a.key\n      clientCert: required\n`))).rejects.toThrow(/ports\[0\]\.tls\.clientCert: client certificates required but nothing to check them against/);
    await expect(load(port(`      cert: a.crt\n      key: a.key\n      allow: [sha256:1234]\n`))).rejects.toThrow(/ports\[0\]\.tls\.allow: "sha256:1234" is neither a SHA-256 fingerprint/);
    await expect(load(port(`      cert: a.crt\n      key: a.key\n      clientCert: sometimes\n`))).rejects.toThrow(/:7:\d+: ports\[0\]\.tls\.clientCert: /);
    await expect(load(port(`      cert: a.crt\n      key: a.key\n      clientCert: none\n      allow: ["${FP}"]\n`))).rejects.toThrow(/ports\[0\]\.tls\.allow: an allow list needs client certificates/);
  });
});
