import { stripVTControlCharacters, styleText } from 'node:util';
import { statusSummary, unreadableLine } from './table.js';
import type { BridgeView, LinkView, WatchView } from './view.js';
import { bridgeChangeKey, linkChangeKey } from './view.js';
import { formatBytes } from './format.js';
import { describeLine, describeQueue } from './line-health.js';
import { callerLines } from '../callers/status-lines.js';

export { formatBytes };

/** Drawing a WatchView three ways: a full screen for a terminal, one plain line per change for a
 *  pipe or a log, one JSON object per change for scripts. */

type Style = 'green' | 'yellow' | 'red' | 'bold' | 'dim';
/** Colours where they help: green up, yellow while waiting to retry, red when a person must act. */
const stateStyle: Partial<Record<string, Style>> = { up: 'green', backoff: 'yellow', paused: 'yellow', 'waiting-for-device': 'yellow', failed: 'red', stale: 'red' };

export interface Paint {
  (style: Style, text: string): string;
}
export const noPaint: Paint = (_style, text) => text;
/** The caller already decided colour is wanted (a terminal, no NO_COLOR, no --no-color); Node's own
 *  check of the stream (default since 20.18/22.13) would second-guess that for a view drawn elsewhere. */
export const ansiPaint: Paint = (style, text) => styleText(style, text, { validateStream: false });

/** NO_COLOR (https://no-color.org): any non-empty value turns colour off. */
export function wantColour(env: NodeJS.ProcessEnv, noColorFlag: boolean): boolean {
  return !noColorFlag && !env.NO_COLOR;
}

const formatRate = (r: number | undefined) => (r === undefined ? '-' : `${formatBytes(r)}/s`);

export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600)}h`;
}

const clock = (iso: string) => iso.slice(11, 19);

function stateWord(l: LinkView, paint: Paint): string {
  if (l.stale) return paint('red', `stale (was ${l.state}; supervisor ${l.supervisorPid} gone)`);
  const style = stateStyle[l.state];
  const word = l.adopted ? `${l.state} (adopted)` : l.state;
  return style ? paint(style, word) : word;
}

/** The facts of one link, in reading order: the first group on a link's first screen line, the rest
 *  below it; a plain line joins both. */
function linkFacts(l: LinkView, now: number, paint: Paint): { head: string[]; detail: string[] } {
  const head = [l.name, stateWord(l, paint), `since ${clock(l.since)} (${formatAge(now - Date.parse(l.since))})`];
  if (l.iface) head.push(l.iface);
  if (l.localIp || l.remoteIp) head.push(`${l.localIp ?? '?'} <-> ${l.remoteIp ?? '?'}`);
  const detail: string[] = [];
  if (l.localIp6 || l.remoteIp6 || l.localIp6Net || l.remoteIp6Net) {
    detail.push(`IPv6 ${[l.localIp6, l.localIp6Net].filter(Boolean).join(' ') || '?'} <-> ${[l.remoteIp6, l.remoteIp6Net].filter(Boolean).join(' ') || '?'}`);
  }
  if (l.counters) {
    const c = l.counters;
    detail.push(`in ${formatBytes(c.rxBytes)} ${formatRate(c.rxRate)}`, `out ${formatBytes(c.txBytes)} ${formatRate(c.txRate)}`);
  }
  if (l.queue) detail.push(describeQueue(l.queue));
  if (l.line) detail.push(l.line.troubles?.length ? paint('red', describeLine(l.line)) : describeLine(l.line));
  if (l.peerUser) detail.push(`peer ${l.peerUser}`);
  detail.push(`restarts ${l.restarts}`);
  if (l.lastExit) detail.push(`last exit ${l.lastExit.code} ${l.lastExit.meaning}`);
  if (l.retryInSeconds !== undefined) detail.push(paint('yellow', `next retry in ${l.retryInSeconds} s`));
  // in backoff the supervisor's message is "retry N in X s", which the countdown says better
  const saidByCountdown = l.state === 'backoff' && l.retryInSeconds !== undefined;
  if (l.message && l.message !== l.state && !saidByCountdown) detail.push(l.message);
  return { head, detail };
}

function portLine(p: BridgeView['ports'][number]): string {
  const clients = p.clients.length === 0 ? 'no client' : `${p.clients.length} client${p.clients.length === 1 ? '' : 's'} (${p.clients.join(', ')})`;
  return `${p.port} ${p.name === p.device ? p.device : `${p.name} ${p.device}`} ${p.enable || '?'}${p.tls ? ' over TLS' : ''}  ${clients}  to device ${formatBytes(p.deviceOut)} ${formatRate(p.deviceOutRate)}  from device ${formatBytes(p.deviceIn)} ${formatRate(p.deviceInRate)}`;
}

function bridgeLines(b: BridgeView, paint: Paint): string[] {
  if (b.error) return [`bridge ${b.control}: ${paint('red', `unreachable (${b.error})`)}, still watching`];
  return [`bridge ${b.control}: ${b.ports.length} port${b.ports.length === 1 ? '' : 's'}`, ...b.ports.map((p) => `  ${portLine(p)}`)];
}

function noLinksLine(v: WatchView): string {
  if (v.waitingForDir) return `waiting for ${v.stateDir} to be created (by the first \`laplink serve\`)`;
  return v.name ? `no link ${v.name} in ${v.stateDir} yet` : `no links in ${v.stateDir} yet`;
}

/** Packs the parts into lines of at most `width` visible columns after `indent` (a part longer
 *  than that gets a line of its own, cut later by the terminal's width). */
function wrapParts(parts: readonly string[], indent: string, width: number): string[] {
  const lines: string[] = [];
  let cur = '';
  for (const part of parts) {
    const next = cur ? `${cur}  ${part}` : part;
    if (cur && indent.length + stripVTControlCharacters(next).length > width) {
      lines.push(indent + cur);
      cur = part;
    } else cur = next;
  }
  if (cur) lines.push(indent + cur);
  return lines;
}

/** The full screen: a title, a block per link, the bridge ports, the summary, the keys. */
export function screenLines(v: WatchView, paint: Paint, width = 100): string[] {
  const now = Date.parse(v.at);
  const out = [paint('bold', `laplink status --watch  ${v.stateDir}  ${clock(v.at)}`), ''];
  if (v.error) out.push(paint('red', v.error));
  if (v.links.length === 0 && v.unreadable.length === 0) out.push(noLinksLine(v));
  const nameWidth = Math.max(0, ...v.links.map((l) => l.name.length));
  for (const l of v.links) {
    const { head, detail } = linkFacts(l, now, paint);
    out.push(`${head[0]!.padEnd(nameWidth)}  ${head.slice(1).join('  ')}`);
    out.push(...wrapParts(detail, ' '.repeat(nameWidth + 2), width));
    // a listen: link's callers, one line each, as plain status shows them
    out.push(...callerLines(l));
  }
  for (const u of v.unreadable) out.push(paint('red', unreadableLine(u)));
  for (const b of v.bridges) out.push('', ...bridgeLines(b, paint));
  out.push('');
  if (v.links.length + v.unreadable.length > 0) out.push(statusSummary(v.links, v.unreadable));
  out.push(paint('dim', v.ticking ? 'q quits; updating every second' : 'q quits, any other key reads the counters again; waiting for the next change'));
  return out;
}

/** Cuts a line to `width` visible columns, keeping escape sequences whole (and closing colour). */
export function fitWidth(line: string, width: number): string {
  let visible = 0;
  let out = '';
  for (const m of line.matchAll(/\x1b\[[0-9;?]*[A-Za-z]|[^\x1b]/gu)) {
    const token = m[0];
    if (token.startsWith('\x1b')) out += token;
    else if (visible < width) {
      out += token;
      visible++;
    }
  }
  return visible >= width && line.includes('\x1b') ? `${out}\x1b[0m` : out;
}

/** What was printed last, per item, so only changes are printed again. */
export type PrintedKeys = Map<string, string>;

/** One plain line per link or bridge that changed since `printed` (and for links that went away). */
export function changeLines(v: WatchView, printed: PrintedKeys): string[] {
  const now = Date.parse(v.at);
  const stamp = v.at.slice(0, 19) + 'Z';
  const out: string[] = [];
  const seen = new Set<string>();
  const note = (key: string, value: string, line: () => string | undefined) => {
    seen.add(key);
    if (printed.get(key) === value) return;
    printed.set(key, value);
    const text = line();
    if (text !== undefined) out.push(`${stamp} ${text}`);
  };
  for (const key of [...printed.keys()]) {
    if (!key.startsWith('link ') || v.links.some((l) => `link ${l.name}` === key) || v.unreadable.some((u) => `link ${u.name}` === key)) continue;
    printed.delete(key);
    out.push(`${stamp} ${key.slice(5)}  gone (state file removed)`);
  }
  // The directory's own line only when it has news: an error, or nothing (yet) to show.
  const none = v.links.length === 0 && v.unreadable.length === 0;
  note('dir', JSON.stringify([v.waitingForDir ?? false, v.error ?? '', none]), () => v.error ?? (none ? noLinksLine(v) : undefined));
  for (const u of v.unreadable) note(`link ${u.name}`, JSON.stringify(u), () => unreadableLine(u));
  for (const l of v.links) {
    note(`link ${l.name}`, linkChangeKey(l), () => {
      const { head, detail } = linkFacts(l, now, noPaint);
      return [...head, ...detail].join('  ');
    });
  }
  for (const b of v.bridges) note(`bridge ${b.control}`, bridgeChangeKey(b), () => bridgeLines(b, noPaint).join('; '));
  for (const key of [...printed.keys()]) if (!seen.has(key)) printed.delete(key);
  return out;
}
