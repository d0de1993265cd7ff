/**
 * The status page and a port console in Debian's Chromium (headless, one browser for the file).
 * The link is run by the supervisor with the STAND-IN pppd (test/helpers/fake-pppd.mjs): this
 * machine's kernel has no PPP, so a real pppd exits before it could bring a link up. The console's
 * port is a real `laplink bridge run` on one end of a socat pty pair; the test is the other end.
 */
import { mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stateFilePath, writeStateFile } from '../../src/pppd/state.js';
import { ask, openControl } from '../helpers/bridge.js';
import { startPtyPair } from '../helpers/ptypair.js';
import { removeDir, standInSupervisor, tempDir, waitForState } from '../helpers/supervisor-harness.js';
import { hashPassword } from '../../src/web/password.js';
import { WebServer } from '../../src/web/server.js';
import { UserBook } from '../../src/web/users.js';
import { launchChromium, screenshotPath, until, webRig, type WebRig } from '../helpers/web.js';

// What the page callbacks see in the browser (the tests' tsconfig has no DOM library).
declare const window: { laplink: { received: number; sum: number; role?: string; term: { buffer: { active: { length: number; getLine(i: number): { translateToString(trim?: boolean): string } | undefined } } } } };
declare const document: { getElementById(id: string): { textContent: string | null } | null };
type Select = { value: string; disabled: boolean };

/** Pages in the background get no animation frames: poll on a timer instead. */
const POLL = { polling: 50 };

let browser: Browser;
const castDir = mkdtempSync(join(tmpdir(), 'laplink-casts-'));
let rig: WebRig;
const pages: Page[] = [];

beforeAll(async () => {
  [browser, rig] = await Promise.all([launchChromium(), webRig({ viewerQueueBytes: 64 * 1024, record: { dir: castDir, maxBytes: 8 << 20, keep: 10 } })]);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await rig?.close();
  rmSync(castDir, { recursive: true, force: true });
});

async function openPage(path: string, viewport = { width: 900, height: 560 }): Promise<Page> {
  const page = await browser.newPage();
  pages.push(page);
  await page.setViewport(viewport);
  await page.goto(`${rig.url}${path}`);
  return page;
}

/** Keys go to the page in front, into its terminal. */
async function typeInto(page: Page, text: string): Promise<void> {
  await page.bringToFront();
  await page.click('#terminal');
  await page.keyboard.type(text);
}

const consolePath = () => `/console.html?port=${encodeURIComponent(rig.portKey)}`;
const screenText = (page: Page) =>
  page.evaluate(() => {
    const b = window.laplink.term.buffer.active;
    const lines: string[] = [];
    for (let i = 0; i < b.length; i++) lines.push(b.getLine(i)?.translateToString(true) ?? '');
    return lines.join('\n');
  });

/** Checksum the console page keeps of what its terminal was given (web/console.js). */
function sum31(start: number, bytes: Buffer): number {
  let s = start;
  for (const b of bytes) s = (Math.imul(s, 31) + b) >>> 0;
  return s;
}

describe('the status page', () => {
  it('shows a supervised link change state, pushed, and the bridge port with a console link', async () => {
    const dir = await tempDir('laplink-web-sup-');
    // the supervisor writes its state where the web server watches
    const sup = standInSupervisor(dir, { FAKE_PPPD_SCENARIO: 'up-hold' }, { stateDir: rig.stateDir, name: 'win98' });
    const page = await openPage('/', { width: 390, height: 760 }); // a phone's width
    await page.waitForSelector(`[data-port="${rig.portKey}"] a.button`);
    const running = sup.run();
    try {
      await waitForState(sup, 'up');
      await page.waitForSelector('[data-link="win98"] [data-state="up"]');
      expect(await page.$eval('[data-link="win98"]', (e) => e.textContent)).toMatch(/win98\s*up/);
      await page.screenshot({ path: screenshotPath(rig.dir, 'web-status.png') });
      await sup.stop();
      await running;
      await page.waitForSelector('[data-link="win98"] [data-state="stopped"]');
    } finally {
      await sup.stop();
      await removeDir(dir);
    }
  });

  it('shows a running link\'s line counters and its queue in the words `status` prints', async () => {
    // a state file as the supervisor writes it for a link whose pppd (this process) holds a real pty
    // and whose interface is `lo` (no PPP here: lo has a real queue that the real tc reports)
    const pty = await startPtyPair();
    const device = realpathSync(pty.a);
    try {
      await writeStateFile(rig.stateDir, { name: 'cable', state: 'up', since: new Date().toISOString(), supervisorPid: process.pid, pppdPid: process.pid, device, iface: 'lo', restarts: 0 });
      const page = await openPage('/');
      await page.waitForSelector('[data-link="cable"] [data-row="queue"]');
      expect(await page.$eval('[data-link="cable"] [data-row="line"]', (e) => e.textContent)).toMatch(new RegExp(`^line ${device} \\d+ bit/s: its driver keeps no counters \\(a pseudo-terminal\\)$`));
      expect(await page.$eval('[data-link="cable"] [data-row="queue"]', (e) => e.textContent)).toBe('queue noqueue (not shaped): backlog 0 B (0 packets), 0 drops, 0 marks');
      await page.close();
    } finally {
      rmSync(stateFilePath(rig.stateDir, 'cable'), { force: true });
      await pty.close();
    }
  });
});

describe('a port console', () => {
  let writer: Page;
  let viewer: Page;

  it('sends typed keys to the device exactly, and shows what the device sends', async () => {
    writer = await openPage(consolePath());
    await writer.waitForFunction(() => window.laplink?.role === 'writer', POLL);
    await until(() => rig.web.consoleCounters(rig.portKey) !== undefined, 'the console session');
    await writer.waitForFunction(() => document.getElementById('state')?.textContent === 'open', POLL);
    await typeInto(writer, 'hello, AT&F\r');
    await until(() => rig.farReceived().length >= 12, 'the typed keys on the far pty');
    expect(rig.farReceived().toString('latin1')).toBe('hello, AT&F\r');

    rig.far.stream.write('Award BIOS v4.51PG\r\nMemory Test : 65536K OK\r\n');
    await until(async () => (await screenText(writer)).includes('Memory Test : 65536K OK'), 'the device output in the terminal');
    // the speed the port runs at, asked by RFC 2217, is shown to the writer, who may change it
    await writer.waitForFunction(() => (document.getElementById('speed') as unknown as Select).value === '115200', POLL);
    expect(await writer.$eval('#speed', (e) => (e as unknown as Select).disabled)).toBe(false);
    await writer.screenshot({ path: screenshotPath(rig.dir, 'web-console.png') });
    // the port's output is being recorded as asciicast v2
    const [cast] = readdirSync(castDir);
    const castLines = readFileSync(join(castDir, cast!), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as unknown);
    expect(castLines[0]).toMatchObject({ version: 2, width: 80, height: 24 });
    expect(castLines.slice(1).map((l) => (l as [number, string, string])[2]).join('')).toBe('Award BIOS v4.51PG\r\nMemory Test : 65536K OK\r\n');

    // the writer changes the speed: the bridge sets it on the device (its control port says so)
    await writer.bringToFront();
    await writer.select('#speed', '9600');
    await writer.waitForFunction(() => (document.getElementById('speed') as unknown as Select).value === '9600', POLL);
    const control = await openControl(rig.controlPort);
    await until(async () => /device config: 9600N81/.test(await ask(control, 'showport')), 'the device at 9600');
    control.destroy();
  });

  it('a second page is read-only: it sees the last screenful, its keys reach nothing, it may take over', async () => {
    viewer = await openPage(consolePath());
    await viewer.waitForFunction(() => window.laplink?.role === 'viewer', POLL);
    // joined late, it was shown the recent output
    await until(async () => (await screenText(viewer)).includes('Memory Test : 65536K OK'), 'the ring buffer replay');
    expect(await viewer.$eval('#speed', (e) => (e as unknown as Select).disabled)).toBe(true);
    const before = rig.farReceived().length;
    await typeInto(viewer, 'viewer keys');
    await typeInto(writer, '!');
    await until(() => rig.farReceived().length > before, 'the writer\'s marker');
    expect(rig.farReceived().subarray(before).toString('latin1')).toBe('!');

    // take over: the viewer writes, the old writer is told it reads only
    await viewer.bringToFront();
    await viewer.click('#take');
    await viewer.waitForFunction(() => window.laplink.role === 'writer', POLL);
    await writer.waitForFunction(() => window.laplink.role === 'viewer', POLL);
    await typeInto(viewer, 'Z');
    await until(() => rig.farReceived().length > before + 1, 'the new writer\'s key');
    expect(rig.farReceived().subarray(before).toString('latin1')).toBe('!Z');
    await writer.bringToFront();
    await writer.click('#take');
    await writer.waitForFunction(() => window.laplink.role === 'writer', POLL);
  });

  it('a paused third page does not slow 1 MiB seen whole by the writer; its queue stays bounded', async () => {
    const paused = await openPage(consolePath());
    await paused.waitForFunction(() => window.laplink?.role === 'viewer', POLL);
    const cdp = await paused.createCDPSession();
    await cdp.send('Debugger.enable');
    await cdp.send('Debugger.pause'); // its JavaScript stops: the page reads nothing more

    const start = await writer.evaluate(() => ({ received: window.laplink.received, sum: window.laplink.sum }));
    const line = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_+=!\r\n'); // 70 bytes
    const mib = Buffer.alloc(1 << 20);
    for (let i = 0; i < mib.length; i += line.length) line.copy(mib, i);
    // with backpressure: the pty holds a few KiB
    for (let i = 0; i < mib.length; i += 4096) {
      if (!rig.far.stream.write(mib.subarray(i, i + 4096))) await new Promise((r) => rig.far.stream.once('drain', r));
    }
    await writer.waitForFunction((n) => window.laplink.received >= n, { ...POLL, timeout: 60_000 }, start.received + mib.length);
    const end = await writer.evaluate(() => ({ received: window.laplink.received, sum: window.laplink.sum }));
    expect(end.received - start.received).toBe(mib.length);
    expect(end.sum).toBe(sum31(start.sum, mib));
    const c = rig.web.consoleCounters(rig.portKey)!;
    // every viewer's queue stayed under its bound plus one chunk (1 MiB fits in the kernel's and
    // Chromium's socket buffers, so the paused page need not skip here; web-sessions.test.ts makes
    // a viewer that never reads fall far enough behind to be skipped)
    expect(c.maxQueued).toBeLessThanOrEqual(64 * 1024 + 64 * 1024);
    await cdp.send('Debugger.resume');
    await paused.close();
  }, 90_000);
});

describe('named users in the browser', () => {
  it('the login form takes a user name; a write: never user gets a read-only console with no Take over, told who writes', async () => {
    const stop = new AbortController();
    const aliceHash = await hashPassword('alice pw');
    const users = new UserBook([
      { name: 'alice', passwordHash: aliceHash, write: 'always' },
      { name: 'carol', passwordHash: await hashPassword('carol pw'), write: 'never' },
    ]);
    const web = await WebServer.start({ listen: { host: '127.0.0.1', port: 0 }, stateDir: rig.stateDir, controls: [{ host: '127.0.0.1', port: rig.controlPort }], users, signal: stop.signal });
    const url = `http://127.0.0.1:${web.address.port}`;
    const contexts: Array<{ close(): Promise<void> }> = [];
    try {
      const logIn = async (name: string, password: string): Promise<Page> => {
        const context = await browser.createBrowserContext(); // each user her own cookies
        contexts.push(context);
        const page = await context.newPage();
        await page.goto(`${url}/`);
        expect(new URL(page.url()).pathname).toBe('/login.html');
        await page.type('input[name=user]', name);
        await page.type('input[name=password]', password);
        await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
        return page;
      };
      const alice = await logIn('alice', 'alice pw');
      await alice.goto(`${url}${consolePath()}`);
      await alice.waitForFunction(() => window.laplink?.role === 'writer', POLL);
      const carol = await logIn('carol', 'carol pw');
      expect(new URL(carol.url()).pathname).toBe('/');
      await carol.goto(`${url}${consolePath()}`);
      await carol.waitForFunction(() => document.getElementById('role')?.textContent === 'read-only (alice writes)', POLL);
      expect(await carol.$eval('#take', (e) => (e as unknown as { hidden: boolean }).hidden)).toBe(true);
      // carol removed (SIGHUP's reload): her open console goes to the login form, alice's stays
      web.reload(new UserBook([{ name: 'alice', passwordHash: aliceHash, write: 'always' }]));
      await carol.waitForFunction(() => (globalThis as unknown as { location: { pathname: string } }).location.pathname === '/login.html', POLL);
      expect(new URL(alice.url()).pathname).toBe('/console.html');
      expect(await alice.evaluate(() => window.laplink.role)).toBe('writer');
    } finally {
      for (const c of contexts) await c.close();
      stop.abort();
    }
  });
});
