/**
 * The pieces of `status --watch`: counters and rates from a sysfs-shaped directory (fake counter
 * files, and the real /sys/class/net/lo once), the watch loop's tick rule, the showport parser,
 * and the three renderings.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeStateFile, type LinkStatus } from '../../src/pppd/state.js';
import { parseBridgeAnswer, parseShowport } from '../../src/status/bridge-ports.js';
import { DEFAULT_SYSFS_NET, RateMeter, readIfaceCounters } from '../../src/status/counters.js';
import { ansiPaint, changeLines, fitWidth, formatBytes, noPaint, screenLines, wantColour } from '../../src/status/screen.js';
import type { LinkView, WatchView } from '../../src/status/view.js';
import { watchStatus } from '../../src/status/watch.js';

let dir = '';
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = '';
});

/** Synchronous, so a write made from a view's callback is in place before the watcher's next tick
 *  (an async write raced that tick on a busy machine: the tick saw nothing move, armed no more
 *  ticks, and the counters written just after were never read). */
function fakeCounters(root: string, iface: string, rx: number, tx: number): void {
  const d = join(root, iface, 'statistics');
  mkdirSync(d, { recursive: true });
  // renamed, so a read between the two never sees an empty file (the kernel's are never partial either)
  for (const [file, value] of [['rx_bytes', rx], ['tx_bytes', tx]] as const) {
    writeFileSync(join(d, `${file}.tmp`), `${value}\n`);
    renameSync(join(d, `${file}.tmp`), join(d, file));
  }
}

const link = (over: Partial<LinkStatus>): LinkStatus => ({ name: 'link-a', state: 'up', since: new Date().toISOString(), supervisorPid: process.pid, restarts: 0, ...over });

describe('interface counters', () => {
  it('reads fake counter files, and the real lo through the same path', async () => {
    dir = await mkdtemp(join(tmpdir(), 'laplink-sysfs-'));
    fakeCounters(dir, 'ppp0', 1234, 5678);
    expect(await readIfaceCounters(dir, 'ppp0')).toEqual({ rxBytes: 1234, txBytes: 5678 });
    expect(await readIfaceCounters(dir, 'ppp1')).toBeUndefined();
    const lo = await readIfaceCounters(DEFAULT_SYSFS_NET, 'lo');
    expect(lo, 'the real /sys/class/net/lo/statistics').toBeDefined();
    expect(Number.isSafeInteger(lo!.rxBytes) && Number.isSafeInteger(lo!.txBytes)).toBe(true);
  });

  it('never builds a path from a name that is not an interface name', async () => {
    dir = await mkdtemp(join(tmpdir(), 'laplink-sysfs-'));
    fakeCounters(join(dir, 'net'), 'x', 1, 2);
    fakeCounters(dir, 'statistics-owner', 1, 2);
    for (const bad of ['..', '.', '../net/x', 'a/b', '', 'a-name-longer-than-15']) expect(await readIfaceCounters(join(dir, 'net'), bad), bad).toBeUndefined();
  });

  it('turns samples into rates; a short interval keeps the rate, a counter going back starts over', () => {
    const m = new RateMeter();
    const first = m.sample('k', { rxBytes: 1000, txBytes: 0 }, 0);
    expect(first).toMatchObject({ first: true, moved: false });
    expect(first.rxRate).toBeUndefined();
    // an event 10 ms after the first sample: no judgement yet, the baseline interval is still owed
    expect(m.sample('k', { rxBytes: 1000, txBytes: 0 }, 10)).toMatchObject({ moved: true, first: false });
    expect(m.sample('k', { rxBytes: 3000, txBytes: 500 }, 1000)).toMatchObject({ rxRate: 2000, txRate: 500, moved: true });
    expect(m.sample('k', { rxBytes: 3100, txBytes: 500 }, 1020)).toMatchObject({ rxBytes: 3100, rxRate: 2000, moved: true });
    expect(m.sample('k', { rxBytes: 3000 + 4000, txBytes: 500 }, 3000)).toMatchObject({ rxRate: 2000, txRate: 0, moved: true });
    expect(m.sample('k', { rxBytes: 7000, txBytes: 500 }, 4000)).toMatchObject({ rxRate: 0, txRate: 0, moved: false });
    // a sample soon after a still interval: still, and no new rate out of 10 ms
    expect(m.sample('k', { rxBytes: 7000, txBytes: 500 }, 4010)).toMatchObject({ rxRate: 0, moved: false });
    const restarted = m.sample('k', { rxBytes: 10, txBytes: 10 }, 5000);
    expect(restarted).toMatchObject({ first: true, moved: true });
    expect(restarted.rxRate).toBeUndefined();
  });
});

describe('the watch loop', () => {
  /** Runs the loop until `until` holds for a view; returns every view seen. */
  async function views(options: { stateDir: string; sysfsRoot?: string }, until: (v: WatchView, all: WatchView[]) => boolean, step?: (v: WatchView) => Promise<void> | void): Promise<WatchView[]> {
    const controller = new AbortController();
    const seen: WatchView[] = [];
    const w = watchStatus({
      ...options,
      signal: controller.signal,
      onView: (v) => {
        seen.push(v);
        if (until(v, seen)) controller.abort();
        else void step?.(v);
      },
    });
    await w.done;
    return seen;
  }

  it('shows bytes and a rate while counters move, and stops ticking once they stand still', async () => {
    dir = await mkdtemp(join(tmpdir(), 'laplink-watch-'));
    const sysfs = join(dir, 'sys');
    fakeCounters(sysfs, 'ppp0', 1000, 2000);
    await writeStateFile(join(dir, 'state'), link({ iface: 'ppp0' }));
    let wrote = false;
    const seen = await views(
      { stateDir: join(dir, 'state'), sysfsRoot: sysfs },
      (v, all) => !v.ticking && all.some((x) => (x.links[0]?.counters?.rxRate ?? 0) > 0),
      async (v) => {
        if (!wrote && v.links[0]?.counters) {
          wrote = true;
          fakeCounters(sysfs, 'ppp0', 51_000, 2500);
        }
      },
    );
    const first = seen.find((v) => v.links[0]?.counters)!;
    expect(first.links[0]!.counters).toMatchObject({ rxBytes: 1000, txBytes: 2000 });
    expect(first.ticking).toBe(true); // a new interface: one tick to take a baseline
    const moving = seen.find((v) => (v.links[0]?.counters?.rxRate ?? 0) > 0)!;
    expect(moving.links[0]!.counters).toMatchObject({ rxBytes: 51_000, txBytes: 2500 });
    expect(moving.ticking).toBe(true);
    const last = seen.at(-1)!;
    expect(last.ticking).toBe(false); // counters unchanged for a tick: wait for the next event
    expect(last.links[0]!.counters).toMatchObject({ rxBytes: 51_000, rxRate: 0, txRate: 0 });
  });

  it('counts the retry down every second while in backoff, then stops ticking', async () => {
    dir = await mkdtemp(join(tmpdir(), 'laplink-watch-'));
    await writeStateFile(join(dir, 'state'), link({ state: 'backoff', nextRetry: new Date(Date.now() + 2500).toISOString() }));
    const seen = await views({ stateDir: join(dir, 'state') }, (v) => !v.ticking);
    const counts = seen.map((v) => v.links[0]!.retryInSeconds).filter((n) => n !== undefined);
    expect(counts.length).toBeGreaterThanOrEqual(2);
    expect(counts).toEqual([...counts].sort((a, b) => b - a)); // never up again
    expect(counts.at(-1)).toBe(1);
    expect(seen.at(-1)!.links[0]!.retryInSeconds).toBeUndefined();
  });

  it('an up link with no interface counters to follow does not tick at all', async () => {
    dir = await mkdtemp(join(tmpdir(), 'laplink-watch-'));
    await writeStateFile(join(dir, 'state'), link({ state: 'up' }));
    const seen = await views({ stateDir: join(dir, 'state') }, (v) => v.links.length === 1);
    expect(seen.at(-1)!.ticking).toBe(false);
  });

  it('with a NAME shows that link only', async () => {
    dir = await mkdtemp(join(tmpdir(), 'laplink-watch-'));
    await writeStateFile(join(dir, 'state'), link({ name: 'link-a' }));
    await writeStateFile(join(dir, 'state'), link({ name: 'link-b', state: 'backoff' }));
    const controller = new AbortController();
    const seen: WatchView[] = [];
    const w = watchStatus({ stateDir: join(dir, 'state'), name: 'link-b', signal: controller.signal, onView: (v) => (seen.push(v), controller.abort()) });
    await w.done;
    expect(seen[0]!.links.map((l) => l.name)).toEqual(['link-b']);
  });

  it('shows control characters from the peer as \\xNN, and leaves out state files it cannot use', async () => {
    dir = await mkdtemp(join(tmpdir(), 'laplink-watch-'));
    const state = join(dir, 'state');
    // a peer's TermReq message reaches the state file through pppd's log line
    await writeStateFile(state, link({ state: 'down', message: 'peer says \x1b]0;owned\x07\x1b[2J bye\x9b' }));
    await writeFile(join(state, 'broken.json'), '{"name": "broken", "state": 3}\n');
    await writeFile(join(state, 'torn.json'), '{"name": "to');
    const controller = new AbortController();
    const seen: WatchView[] = [];
    const w = watchStatus({ stateDir: state, signal: controller.signal, onView: (v) => (seen.push(v), controller.abort()) });
    await w.done;
    expect(seen[0]!.links.map((l) => l.name)).toEqual(['link-a']);
    expect(seen[0]!.links[0]!.message).toBe('peer says \\x1b]0;owned\\x07\\x1b[2J bye\\x9b');
    const screen = screenLines(seen[0]!, ansiPaint).join('\n');
    expect(screen).not.toMatch(/\x1b[\]]|\x1b\[2J|\x07|\x9b/);
  });

  it('marks a link whose supervisor is gone as stale and reads no counters for it', async () => {
    dir = await mkdtemp(join(tmpdir(), 'laplink-watch-'));
    const sysfs = join(dir, 'sys');
    fakeCounters(sysfs, 'ppp0', 1, 1);
    await writeStateFile(join(dir, 'state'), link({ iface: 'ppp0', supervisorPid: 2 ** 22 + 1 }));
    const seen = await views({ stateDir: join(dir, 'state'), sysfsRoot: sysfs }, (v) => v.links.length === 1);
    expect(seen.at(-1)!.links[0]!.stale).toBe(true);
    expect(seen.at(-1)!.links[0]!.counters).toBeUndefined();
    expect(screenLines(seen.at(-1)!, ansiPaint).join('\n')).toContain(`\x1b[31mstale (was up; supervisor ${2 ** 22 + 1} gone)\x1b[39m`);
  });
});

describe('bridge control port answers', () => {
  it('parses showport blocks', () => {
    const text = ['TCP port 4001', '  enable state: raw', '  timeout: 0', '  connected to: 127.0.0.1:5000, 127.0.0.1:5001', '  device: cable0', '  device config: 115200N81 CLOCAL', '  bytes read from TCP: 10', '  bytes written to TCP: 20', '  bytes read from device: 30', '  bytes written to device: 40', '  data path: pump', 'TCP port 4002', '  enable state: off', '  connected to: not connected', '  device: cable1'].join('\r\n');
    expect(parseShowport(text)).toEqual([
      { port: '4001', name: 'cable0', device: 'cable0', enable: 'raw', clients: ['127.0.0.1:5000', '127.0.0.1:5001'], tcpIn: 10, tcpOut: 20, deviceIn: 30, deviceOut: 40 },
      { port: '4002', name: 'cable1', device: 'cable1', enable: 'off', clients: [], tcpIn: 0, tcpOut: 0, deviceIn: 0, deviceOut: 0 },
    ]);
  });

  it('parses the name, the device path and the counts since start, only of the kinds it knows', () => {
    const text = ['TCP port 4003', '  enable state: rfc2217', '  connected to: not connected', '  name: cable0', '  device: /dev/ttyUSB0', '  refused: not_allowed=1 disabled=0 unavailable=2 in_use=3 tls=4 invented=99', '  dropped: too_slow=5 kicked=6 idle_timeout=7 device_gone=8', '  client bytes total: in=100 out=200', '  tls handshakes: ok=9 refused=4'].join('\r\n');
    expect(parseShowport(text)).toEqual([
      {
        port: '4003', name: 'cable0', device: '/dev/ttyUSB0', enable: 'rfc2217', clients: [], tcpIn: 0, tcpOut: 0, deviceIn: 0, deviceOut: 0,
        refused: { not_allowed: 1, disabled: 0, unavailable: 2, in_use: 3, tls: 4 },
        dropped: { too_slow: 5, kicked: 6, idle_timeout: 7, device_gone: 8 },
        clientBytesTotal: { in: 100, out: 200 },
        tlsHandshakes: { ok: 9, refused: 4 },
      },
    ]);
  });
});

describe('bridge control port answers: TLS', () => {
  it('reads whether each port is on TLS from its tls line, and nothing from a line it does not know', () => {
    const port = (n: number, tls: string) => [`TCP port ${n}`, '  enable state: raw', '  connected to: not connected', `  name: p${n}`, '  device: /dev/ttyS0', `  tls: ${tls}`];
    const text = [...port(1, 'on, client certificates required'), ...port(2, 'off'), ...port(3, 'maybe')].join('\r\n');
    expect(parseShowport(text).map((p) => [p.name, p.tls])).toEqual([
      ['p1', true],
      ['p2', false],
      ['p3', undefined],
    ]);
  });
});

describe('bridge control port answers: rotators', () => {
  it('a rotator block ends the port before it: its counts never land on that port', () => {
    const text = ['TCP port 4001', '  name: lab0', '  refused: not_allowed=1 disabled=0 unavailable=0 in_use=0 tls=0', 'Rotator any', '  listen: 127.0.0.1:4000', '  tls: on, client certificates required', '  ports: lab0, lab1', '  clients handed: 7', '  refused: all_in_use=2 tls=3 invented=9', '  tls handshakes: ok=9 refused=3', '  device: /dev/evil'].join('\r\n');
    const answer = parseBridgeAnswer(text);
    expect(answer.ports.map((p) => [p.name, p.device, p.refused])).toEqual([['lab0', '', { not_allowed: 1, disabled: 0, unavailable: 0, in_use: 0, tls: 0 }]]);
    expect(answer.rotators).toEqual([{ name: 'any', listen: '127.0.0.1:4000', tls: true, ports: ['lab0', 'lab1'], handed: 7, refused: { all_in_use: 2, tls: 3 }, tlsHandshakes: { ok: 9, refused: 3 } }]);
  });
});

describe('rendering', () => {
  const now = '2026-11-30T07:00:30.000Z';
  const view = (links: LinkView[]): WatchView => ({ at: now, stateDir: '/run/laplink', links, unreadable: [], bridges: [], ticking: false });
  const up: LinkView = { ...link({ state: 'up', since: '2026-11-30T07:00:00.000Z', upSince: '2026-11-30T07:00:00.000Z', iface: 'ppp0', localIp: '192.168.7.1', remoteIp: '192.168.7.2', restarts: 1 }), stale: false, counters: { rxBytes: 2048, txBytes: 512, rxRate: 1536, txRate: 0 } };

  it('lists a listen: link\'s callers under it, and a caller arriving is a change', () => {
    const dialin: LinkView = { ...link({ name: 'dialin', state: 'up', since: '2026-11-30T07:00:00.000Z' }), stale: false, callers: [{ remote: '127.0.0.1:5000', ip: '192.168.7.10', since: '2026-11-30T07:00:10.000Z', state: 'running', bytesIn: 2048, bytesOut: 100, dialled: '5551234' }] };
    const lines = screenLines(view([dialin]), noPaint);
    expect(lines).toContain('  dialin caller 127.0.0.1:5000 192.168.7.10  running  since 07:00:10  in 2048 B out 100 B  dialled 5551234');
    const printed = new Map<string, string>();
    changeLines(view([{ ...dialin, callers: [] }]), printed);
    expect(changeLines(view([dialin]), printed)).toHaveLength(1);
    // the same caller with more bytes is no news
    expect(changeLines(view([{ ...dialin, callers: [{ ...dialin.callers![0]!, bytesIn: 9999 }] }]), printed)).toHaveLength(0);
  });

  it('colours the state words, and nothing with noPaint', () => {
    const backoff: LinkView = { ...link({ name: 'link-b', state: 'backoff', since: now }), stale: false, retryInSeconds: 4 };
    const failed: LinkView = { ...link({ name: 'link-c', state: 'failed', since: now }), stale: false };
    const coloured = screenLines(view([up, backoff, failed]), ansiPaint).join('\n');
    expect(coloured).toContain('\x1b[32mup\x1b[39m');
    expect(coloured).toContain('\x1b[33mbackoff\x1b[39m');
    expect(coloured).toContain('\x1b[33mnext retry in 4 s\x1b[39m');
    expect(coloured).toContain('\x1b[31mfailed\x1b[39m');
    const plain = screenLines(view([up, backoff, failed]), noPaint);
    expect(plain.join('\n')).not.toContain('\x1b');
    expect(plain[2]).toBe('link-a  up  since 07:00:00 (30s)  ppp0  192.168.7.1 <-> 192.168.7.2');
    expect(plain[3]).toBe('        in 2.0 KiB 1.5 KiB/s  out 512 B 0 B/s  restarts 1');
    // a narrow terminal: the facts wrap at part boundaries under the name column
    const narrow = screenLines(view([up]), noPaint, 40);
    expect(narrow.slice(3, 5)).toEqual(['        in 2.0 KiB 1.5 KiB/s', '        out 512 B 0 B/s  restarts 1']);
  });

  it('NO_COLOR: any non-empty value turns colour off', () => {
    expect(wantColour({}, false)).toBe(true);
    expect(wantColour({ NO_COLOR: '' }, false)).toBe(true);
    expect(wantColour({ NO_COLOR: '0' }, false)).toBe(false);
    expect(wantColour({}, true)).toBe(false);
  });

  it('cuts lines to the width without cutting an escape sequence', () => {
    expect(fitWidth('abcdef', 4)).toBe('abcd');
    expect(fitWidth('a\x1b[32mbcdef\x1b[39m', 3)).toBe('a\x1b[32mbc\x1b[39m\x1b[0m');
    expect(fitWidth('ab', 4)).toBe('ab');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(5 * 1024 * 1024)).toBe('5.0 MiB');
  });

  it('prints a plain line only for what changed (not for counters), and one when a link goes', () => {
    const printed = new Map<string, string>();
    expect(changeLines(view([up]), printed)).toHaveLength(1);
    expect(changeLines(view([{ ...up, counters: { rxBytes: 9999, txBytes: 1 } }]), printed)).toEqual([]);
    expect(changeLines(view([{ ...up, state: 'down' }]), printed)).toEqual([expect.stringMatching(/^2026-11-30T07:00:30Z link-a {2}down {2}since/)]);
    expect(changeLines(view([]), printed)).toEqual(['2026-11-30T07:00:30Z link-a  gone (state file removed)', '2026-11-30T07:00:30Z no links in /run/laplink yet']);
  });
});
