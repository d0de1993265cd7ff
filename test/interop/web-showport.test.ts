/**
 * The pages behind a web console, seen from the bridge: to a real `bridge run` the web is one client
 * of the port, so the web names its pages through the control port (`setclientlabel`), and showport
 * (read by a plain TCP client, as an operator reads it) and `status --watch` list who writes and who
 * reads. The pages are real WebSocket clients (Node's `ws`).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ask, openControl } from '../helpers/bridge.js';
import { startWatch, type WatchProcess } from '../helpers/status-watch.js';
import { openConsoleSocket, until, webRig, type WebRig } from '../helpers/web.js';

let rig: WebRig | undefined;
const watchers: WatchProcess[] = [];
afterEach(async () => {
  for (const w of watchers.splice(0)) {
    w.proc.kill('SIGKILL');
    await w.exit;
  }
  await rig?.close();
  rig = undefined;
});

describe('showport lists the web pages behind a console', () => {
  it('who writes and who reads, as pages come and go; status --watch shows the same client line', async () => {
    rig = await webRig();
    const r = rig;
    const ctl = await openControl(r.controlPort);
    const showport = () => ask(ctl, 'showport');
    const first = await openConsoleSocket(r.url, r.portKey);
    await until(async () => /connected to: 127\.0\.0\.1:\d+ \[web: \S+ writes\]\r?\n/.test(await showport()), 'showport naming the writing page');
    const second = await openConsoleSocket(r.url, r.portKey);
    await until(async () => /connected to: 127\.0\.0\.1:\d+ \[web: \S+ writes; \S+ reads\]\r?\n/.test(await showport()), 'showport naming both pages');

    const w = startWatch(['--state-dir', r.stateDir, '--json', '--control', `127.0.0.1:${r.controlPort}`]);
    watchers.push(w);
    await w.waitFor(/"clients":\["127\.0\.0\.1:\d+ \[web: \S+ writes; \S+ reads\]"\]/);

    second.ws.close();
    await until(async () => /connected to: 127\.0\.0\.1:\d+ \[web: \S+ writes\]\r?\n/.test(await showport()), 'showport after the reading page left');
    first.ws.close();
    ctl.destroy();
  });

  it('refuses a label that could break showport\'s list, and a client that is not there', async () => {
    rig = await webRig();
    const r = rig;
    const page = await openConsoleSocket(r.url, r.portKey);
    const ctl = await openControl(r.controlPort);
    const port = r.portKey.split(':')[1]!;
    await until(async () => /\[web: /.test(await ask(ctl, 'showport')), 'the page named');
    const client = /connected to: (127\.0\.0\.1:\d+) \[/.exec(await ask(ctl, 'showport'))![1]!;
    expect(await ask(ctl, `setclientlabel ${port} ${client} two, clients`)).toMatch(/^Invalid label: two, clients \(allowed: /);
    expect(await ask(ctl, `setclientlabel ${port} ${client} [bracket]`)).toMatch(/^Invalid label: \[bracket\]/);
    expect(await ask(ctl, `setclientlabel ${port} 127.0.0.1:1 someone`)).toMatch(/^No client 127\.0\.0\.1:1 on port /);
    // an empty label clears it
    expect((await ask(ctl, `setclientlabel ${port} ${client}`)).trim()).toBe('');
    expect(await ask(ctl, 'showport')).toMatch(new RegExp(`connected to: ${client.replace(/\./g, '\\.')}\\r?\\n`));
    page.ws.close();
    ctl.destroy();
  });
});
