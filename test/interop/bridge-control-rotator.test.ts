/**
 * Rotators seen from the control port and the exporter: a real `bridge run` whose TLS rotator (the
 * test CA's client certificates, made by openssl at test time) hands clients to its one port.
 * `openssl s_client` is the client: with our CA's certificate it is handed on; with another CA's
 * it is refused by TLS; a second good client while the port is busy is refused as all_in_use.
 * showport lists the rotator after the ports with those counts, and the exporter's scrape (checked
 * by promtool) carries them as series. Needs a fresh build (`npm test` builds first).
 */
import { execa, type ResultPromise } from 'execa';
import { existsSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { freePorts } from '../helpers/bridge-processes.js';
import { ask, bridgeRig, collect, openControl, startCli, stop, waitUntil } from '../helpers/bridge.js';
import { laplinkBin } from '../helpers/supervisor-harness.js';
import { testPki, type Cert } from '../helpers/tls.js';

const rig = bridgeRig();
const pki = testPki();
const PROMTOOL = '/usr/bin/promtool';

/** `openssl s_client` with `cert`, sending `text` once connected; killed after the test. */
function sClient(port: number, cert: Cert, text: string): ResultPromise {
  const p = execa('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-cert', cert.cert, '-key', cert.key, '-CAfile', pki.ca, '-quiet'], { reject: false, buffer: false, stdin: 'pipe', stdout: 'pipe', stderr: 'ignore' });
  p.stdin!.write(text);
  rig.cleanups.push(async () => {
    p.kill('SIGTERM');
    await p;
  });
  return p;
}

describe('a rotator on the control port and in the exporter', () => {
  it('showport lists it with the clients it handed on and refused by reason; the exporter has the same counts', async () => {
    const p = await rig.pair();
    const [control] = await freePorts(1);
    const cfg = `${p.dir}/bridge.yaml`;
    writeFileSync(
      cfg,
      [
        'lock: false',
        `control: 127.0.0.1:${control}`,
        'ports:',
        `  - { name: lab0, device: ${p.a} }`,
        'rotators:',
        `  - { name: any, listen: 127.0.0.1:0, ports: [lab0], tls: { cert: ${pki.server.cert}, key: ${pki.server.key}, ca: ${pki.ca} } }`,
        '',
      ].join('\n'),
    );
    const run = await startCli(['bridge', 'run', cfg], /any: listening on 127\.0\.0\.1:(\d+) \(TLS\)\ncontrol: listening/);
    rig.cleanups.push(() => stop(run.proc));
    const rotator = Number(run.match[1]);
    const dev = rig.end(p.b);

    const ctl = await openControl(control!);
    rig.cleanups.push(() => void ctl.destroy());
    const block = async () => (await ask(ctl, 'showport any')).replace(/\r\n/g, '\n');
    expect(await block()).toBe(`Rotator any\n  listen: 127.0.0.1:${rotator}\n  tls: on, client certificates required\n  ports: lab0\n  clients handed: 0\n  refused: all_in_use=0 tls=0\n  tls handshakes: ok=0 refused=0\n`);

    const first = sClient(rotator, pki.client, 'first\n');
    expect((await collect(dev, 6)).toString()).toBe('first\n');
    sClient(rotator, pki.wrongCaClient, 'stranger\n');
    await waitUntil(() => / any: refused 127\.0\.0\.1:\d+ \(client certificate CN=stranger/.test(run.stderr()), 'the TLS refusal', 15_000, 20);
    sClient(rotator, pki.client, 'second\n');
    await waitUntil(() => / any: refused 127\.0\.0\.1:\d+ \(all ports in use\)/.test(run.stderr()), 'the all-in-use refusal', 15_000, 20);
    void first;

    expect(await block()).toBe(`Rotator any\n  listen: 127.0.0.1:${rotator}\n  tls: on, client certificates required\n  ports: lab0\n  clients handed: 1\n  refused: all_in_use=1 tls=1\n  tls handshakes: ok=2 refused=1\n`);
    // the whole answer: the port first, then the rotator, each block read on its own
    const all = (await ask(ctl, 'showport')).replace(/\r\n/g, '\n');
    expect(all).toMatch(/^TCP port lab0\n[^]*\n {2}tls handshakes: ok=1 refused=0\nRotator any\n/);

    expect(existsSync(PROMTOOL), `${PROMTOOL} is missing: apt-get install prometheus (it is in debian-packages.txt)`).toBe(true);
    const scrape = await execa(process.execPath, [laplinkBin, 'exporter', '--once', '--state-dir', `${p.dir}/state`, '--control', `127.0.0.1:${control}`], { reject: false });
    expect([scrape.exitCode, scrape.stderr]).toEqual([0, '']);
    const c = `control="127.0.0.1:${control}",rotator="any"`;
    for (const line of [
      `laplink_bridge_rotator_info{${c},listen="127.0.0.1:${rotator}",ports="lab0"} 1`,
      `laplink_bridge_rotator_tls{${c}} 1`,
      `laplink_bridge_rotator_clients_handed_total{${c}} 1`,
      `laplink_bridge_rotator_refused_total{${c},reason="all_in_use"} 1`,
      `laplink_bridge_rotator_refused_total{${c},reason="tls"} 1`,
      `laplink_bridge_rotator_tls_handshakes_total{${c},outcome="ok"} 2`,
      `laplink_bridge_rotator_tls_handshakes_total{${c},outcome="refused"} 1`,
    ])
      expect(scrape.stdout).toContain(`${line}\n`);
    // execa strips the scrape's final newline; the format ends each line with one
    const check = await execa(PROMTOOL, ['check', 'metrics'], { input: `${scrape.stdout}\n`, reject: false, all: true });
    expect([check.exitCode, check.all]).toEqual([0, '']);
  });
});
