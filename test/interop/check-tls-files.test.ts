/**
 * `check` reads the TLS files a profile's `bridge:` line names: readable, the key the certificate's
 * own, and every certificate inside its dates. The certificates are made by the real openssl,
 * including an expired one and one not yet valid (openssl ca -startdate/-enddate).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLink } from '../../src/profile/check.js';
import { loadProfile } from '../../src/profile/load.js';
import { tlsFileFindings } from '../../src/tls/files.js';
import { makePki, type TestPki } from '../helpers/tls.js';

let pki: TestPki;
let dir: string;
beforeAll(async () => {
  pki = await makePki();
  dir = await mkdtemp(join(tmpdir(), 'laplink-check-tls-'));
});
afterAll(async () => {
  pki?.remove();
  await rm(dir, { recursive: true, force: true });
});

describe('tlsFileFindings', () => {
  it('says FAIL for an expired, a future, a mismatched and a missing file', async () => {
    const expired = await tlsFileFindings({ cert: pki.expiredClient.cert, key: pki.expiredClient.key });
    expect(expired).toEqual([{ level: 'FAIL', detail: `certificate ${pki.expiredClient.cert} expired 2020-02-01T00:00:00.000Z` }]);
    const future = await tlsFileFindings({ cert: pki.futureClient.cert, key: pki.futureClient.key });
    expect(future).toEqual([{ level: 'FAIL', detail: `certificate ${pki.futureClient.cert} is not valid before 2099-01-01T00:00:00.000Z` }]);
    const mismatched = await tlsFileFindings({ cert: pki.client.cert, key: pki.server.key });
    expect(mismatched).toEqual([{ level: 'FAIL', detail: `key ${pki.server.key} does not belong to certificate ${pki.client.cert}` }]);
    const missing = await tlsFileFindings({ ca: join(dir, 'nowhere.crt') });
    expect(missing).toEqual([{ level: 'FAIL', detail: `CA file ${join(dir, 'nowhere.crt')}: no such file` }]);
  });

  it('warns about a certificate and a CA that end within 30 days, and says ok a year ahead', async () => {
    // the test PKI signs for two days and its CA lasts three
    const soon = await tlsFileFindings({ cert: pki.client.cert, key: pki.client.key, ca: pki.ca });
    expect(soon.map((f) => f.level)).toEqual(['warn', 'warn']);
    expect(soon[0]!.detail).toMatch(new RegExp(`^certificate ${pki.client.cert} expires in [01] days`));
    expect(soon[1]!.detail).toMatch(new RegExp(`^CA file ${pki.ca} expires in [0-2] days`));
    const okThen = await tlsFileFindings({ cert: pki.futureClient.cert, key: pki.futureClient.key }, new Date('2098-06-01T00:00:00Z'));
    expect(okThen).toEqual([{ level: 'FAIL', detail: `certificate ${pki.futureClient.cert} is not valid before 2099-01-01T00:00:00.000Z` }]);
    const okLater = await tlsFileFindings({ cert: pki.futureClient.cert, key: pki.futureClient.key }, new Date('2099-03-01T00:00:00Z'));
    expect(okLater).toEqual([{ level: 'ok', detail: `certificate ${pki.futureClient.cert} valid until 2099-12-31, key ${pki.futureClient.key} matches` }]);
  });
});

describe('check of a profile with bridgeTls', () => {
  it('lists the bridge TLS files, FAIL for an expired client certificate', async () => {
    const path = join(dir, 'tlsclient.yaml');
    await writeFile(path, `name: tlsclient\nrole: client\nbridge: 127.0.0.1:1\nbridgeTls: { ca: ${pki.ca}, cert: ${pki.expiredClient.cert}, key: ${pki.expiredClient.key} }\nlocalIp: 10.0.0.2\nremoteIp: 10.0.0.1\nauth: { user: u, password: p }\n`);
    const r = await checkLink(await loadProfile(path), { root: join(dir, 'root'), lockDir: dir, laplinkArgv: ['/usr/bin/node', '/opt/laplink/bin/laplink.js'] });
    expect(r.filter((c) => c.what === 'bridge TLS' && c.level === 'FAIL')).toEqual([{ level: 'FAIL', what: 'bridge TLS', detail: `certificate ${pki.expiredClient.cert} expired 2020-02-01T00:00:00.000Z` }]);
  });
});
