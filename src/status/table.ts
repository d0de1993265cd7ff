import { isEndState } from '../pppd/end-states.js';
import { pidAlive, type LinkStatus, type UnreadableState } from '../pppd/state.js';

/** A state in which the supervisor is meant to be running (every state but the ends). */
export const isRunningState = (state: LinkStatus['state']): boolean => !isEndState(state);

/** A state file whose supervisor is gone while the link claimed to be running. */
export function isStale(s: LinkStatus): boolean {
  return isRunningState(s.state) && !pidAlive(s.supervisorPid);
}

function ago(iso: string | undefined, now: number): string {
  if (!iso) return '-';
  const sec = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  const rel = sec < 60 ? `${sec}s` : sec < 3600 ? `${Math.floor(sec / 60)}m${sec % 60}s` : `${Math.floor(sec / 3600)}h${Math.floor((sec % 3600) / 60)}m`;
  return `${iso.slice(11, 19)} (${rel} ago)`;
}

/** Summary order: running states first, in the order a link passes through them, then the ends. */
const summaryOrder = ['up', 'negotiating', 'handshaking', 'starting', 'waiting-for-device', 'down', 'backoff', 'paused', 'stale', 'failed', 'done', 'stopped', 'unreadable'];

/** `2 links: 1 up, 1 backoff` (a dead supervisor's link counts as stale, whatever it last said; a
 *  state file that could not be read counts as unreadable). */
export function statusSummary(links: readonly LinkStatus[], unreadable: readonly UnreadableState[] = []): string {
  const counts = new Map<string, number>();
  for (const s of links) {
    const key = isStale(s) ? 'stale' : s.state;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  if (unreadable.length) counts.set('unreadable', unreadable.length);
  const total = links.length + unreadable.length;
  const parts = [...counts].sort(([a], [b]) => summaryOrder.indexOf(a) - summaryOrder.indexOf(b)).map(([state, n]) => `${n} ${state}`);
  return `${total} link${total === 1 ? '' : 's'}: ${parts.join(', ')}`;
}

/** The one line naming a state file that was not shown, and why. */
export function unreadableLine(u: UnreadableState): string {
  return `${u.name}: state file unreadable: ${u.reason} (${u.file})`;
}

/** The `laplink status` table: one row per link sorted by name, columns a person reads at a glance,
 *  notes below, and a summary line. */
/** `extraNotes`: more facts per link name (its line's counters, its queue), each shown as a note. */
export function statusTable(unsorted: LinkStatus[], now = Date.now(), unreadable: readonly UnreadableState[] = [], extraNotes: ReadonlyMap<string, string[]> = new Map()): string {
  const links = [...unsorted].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const head = ['LINK', 'STATE', 'SINCE', 'IFACE', 'LOCAL', 'REMOTE', 'PEER', 'LAST EXIT', 'RESTARTS'];
  const rows = links.map((s) => {
    const state = isStale(s) ? `stale (was ${s.state}; supervisor ${s.supervisorPid} gone)` : s.adopted ? `${s.state} (adopted)` : s.state;
    const last = s.lastExit ? `${s.lastExit.code} ${s.lastExit.meaning}` : '-';
    return [s.name, state, ago(s.since, now), s.iface ?? '-', s.localIp ?? '-', s.remoteIp ?? '-', s.peerUser ?? '-', last, String(s.restarts)];
  });
  for (const u of unreadable) rows.push([u.name, 'unreadable', '-', '-', '-', '-', '-', '-', '-']);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  const out = [line(head), ...rows.map(line)];
  for (const s of links) {
    const message = s.message && s.message !== s.state ? s.message : undefined;
    const reason = s.lastExit?.reason && !message?.includes(s.lastExit.reason) ? `last exit: ${s.lastExit.reason}` : undefined;
    const ipv6 = s.localIp6 || s.remoteIp6 ? `IPv6 ${[s.localIp6, s.localIp6Net].filter(Boolean).join(' ') || '?'} <--> ${[s.remoteIp6, s.remoteIp6Net].filter(Boolean).join(' ') || '?'}` : undefined;
    const notes = [ipv6, message, s.dialled ? `peer dialled ${s.dialled}` : undefined, s.nextRetry && ['backoff', 'paused'].includes(s.state) ? `next try ${s.nextRetry.slice(11, 19)}` : undefined, reason, ...(extraNotes.get(s.name) ?? [])].filter(Boolean);
    if (notes.length) out.push(`${s.name}: ${notes.join('; ')}`);
  }
  for (const u of unreadable) out.push(unreadableLine(u));
  out.push(statusSummary(links, unreadable));
  return `${out.join('\n')}\n`;
}
