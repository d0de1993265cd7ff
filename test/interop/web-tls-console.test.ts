/**
 * A console on a bridge port that is on TLS with client certificates required: the web server dials
 * it with its configured client identity (`bridgeTls`), and a dial the port or the server refuses is
 * shown to the page as one line. Behind it, a real `laplink bridge run` on a socat pty pair; the
 * certificates come from the system's openssl. The pages are Node's `ws` client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebServer } from '../../src/web/server.js';
import type { TlsClientSettings } from '../../src/tls/settings.js';
import { testPki } from '../helpers/tls.js';
import { openConsoleSocket, until, untilConsoleListed, webRig, type ConsoleSocket, type WebRig } from '../helpers/web.js';

const pki = testPki();
let rig: WebRig;
const stops: AbortController[] = [];

beforeAll(async () => {
  const portTls = `    tls:\n      cert: ${pki.server.cert}\n      key: ${pki.server.key}\n      ca: ${pki.ca}\n`;
  rig = await webRig({ bridgeTls: { ca: pki.ca, cert: pki.client.cert, key: pki.client.key } }, 'raw', portTls);
  await untilConsoleListed(rig.url, rig.portKey);
}, 60_000);
afterAll(async () => {
  for (const s of stops) s.abort();
  await rig?.close();
});

/** Another web server on the same bridge, dialling its ports with other TLS settings. */
async function otherWeb(bridgeTls: TlsClientSettings): Promise<string> {
  const stop = new AbortController();
  stops.push(stop);
  const web = await WebServer.start({ listen: { host: '127.0.0.1', port: 0 }, stateDir: rig.stateDir, controls: [{ host: '127.0.0.1', port: rig.controlPort }], bridgeTls, signal: stop.signal });
  const url = `http://127.0.0.1:${web.address.port}`;
  await untilConsoleListed(url, rig.portKey);
  return url;
}

const lastState = (c: ConsoleSocket) => [...c.texts].reverse().find((m) => m.type === 'state' || m.type === 'hello')?.state as string | undefined;

describe('a console on a TLS bridge port', () => {
  it('dials with the client certificate: typed bytes reach the device and its output comes back', async () => {
    const c = await openConsoleSocket(rig.url, rig.portKey);
    await until(() => lastState(c) === 'open', 'the TLS session to the port');
    c.ws.send(Buffer.from('ATZ\r'));
    await until(() => rig.farReceived().length >= 4, 'the bytes on the far pty');
    expect(rig.farReceived().toString()).toBe('ATZ\r');
    rig.far.stream.write('OK\r\n');
    await until(() => Buffer.concat(c.binary).toString() === 'OK\r\n', 'the device output on the page');
    c.ws.close();
  });

  it('without a client certificate the port refuses us, and the page is told so in one line', async () => {
    const url = await otherWeb({ ca: pki.ca });
    const before = rig.farReceived().length;
    const c = await openConsoleSocket(url, rig.portKey);
    await until(() => lastState(c)?.startsWith('closed') ?? false, 'the refusal');
    // The port's TLS is terminated natively, and OpenSSL there refuses a missing certificate inside
    // the handshake with its alert: the page is told precisely (not "it may require").
    expect(lastState(c)).toBe('closed: TLS: the port requires a client certificate (allowed: bridgeTls cert and key)');
    c.ws.send(Buffer.from('nothing'));
    c.ws.close();
    expect(rig.farReceived().length).toBe(before);
  });

  it('a client certificate the port does not accept (another CA): the page is told so in one line', async () => {
    const url = await otherWeb({ ca: pki.ca, cert: pki.wrongCaClient.cert, key: pki.wrongCaClient.key });
    const c = await openConsoleSocket(url, rig.portKey);
    await until(() => lastState(c)?.startsWith('closed') ?? false, 'the refusal');
    expect(lastState(c)).toBe('closed: TLS: the port closed the session before sending anything: it may not accept our client certificate (its ca or allow list)');
    c.ws.close();
  });

  it("a port whose certificate we cannot verify (no CA given: the system's) is refused by us, in one line", async () => {
    const url = await otherWeb({ cert: pki.client.cert, key: pki.client.key });
    const c = await openConsoleSocket(url, rig.portKey);
    await until(() => lastState(c)?.startsWith('closed') ?? false, 'the refusal');
    expect(lastState(c)).toBe("closed: TLS: the port's certificate is refused: self-signed certificate in certificate chain");
    c.ws.close();
  });

  it('a pinned key that is not the port\'s is refused, in one line', async () => {
    const url = await otherWeb({ pin: [pki.client.fingerprint] });
    const c = await openConsoleSocket(url, rig.portKey);
    await until(() => lastState(c)?.startsWith('closed') ?? false, 'the refusal');
    expect(lastState(c)).toBe(`closed: TLS: server certificate ${pki.server.fingerprint} is not pinned (--tls-pin)`);
    c.ws.close();
  });
});
