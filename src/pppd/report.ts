import { pidAlive, type LinkStatus } from './state.js';

/** A state file whose supervisor is gone while the link claimed to be running. */
export function isStale(s: LinkStatus): boolean {
  return !['stopped', 'done', 'failed'].includes(s.state) && !pidAlive(s.supervisorPid);
}

function ago(iso: string | undefined, now: number): string {
  if (!iso) return '-';
  const sec = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  const rel = sec < 60 ? `${sec}s` : sec < 3600 ? `${Math.floor(sec / 60)}m${sec % 60}s` : `${Math.floor(sec / 3600)}h${Math.floor((sec % 3600) / 60)}m`;
  return `${iso.slice(11, 19)} (${rel} ago)`;
}

/** The `laplink status` table: one row per link, columns a person reads at a glance. */
export function statusTable(links: LinkStatus[], now = Date.now()): string {
  const head = ['LINK', 'STATE', 'SINCE', 'IFACE', 'LOCAL', 'REMOTE', 'PEER', 'LAST EXIT', 'RESTARTS'];
  const rows = links.map((s) => {
    const state = isStale(s) ? `stale (was ${s.state}; supervisor ${s.supervisorPid} gone)` : s.adopted ? `${s.state} (adopted)` : s.state;
    const last = s.lastExit ? `${s.lastExit.code} ${s.lastExit.meaning}` : '-';
    return [s.name, state, ago(s.since, now), s.iface ?? '-', s.localIp ?? '-', s.remoteIp ?? '-', s.peerUser ?? '-', last, String(s.restarts)];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  const out = [line(head), ...rows.map(line)];
  for (const s of links) {
    const message = s.message && s.message !== s.state ? s.message : undefined;
    const reason = s.lastExit?.reason && !message?.includes(s.lastExit.reason) ? `last exit: ${s.lastExit.reason}` : undefined;
    const notes = [message, s.dialled ? `peer dialled ${s.dialled}` : undefined, s.nextRetry && ['backoff', 'paused'].includes(s.state) ? `next try ${s.nextRetry.slice(11, 19)}` : undefined, reason].filter(Boolean);
    if (notes.length) out.push(`${s.name}: ${notes.join('; ')}`);
  }
  return `${out.join('\n')}\n`;
}
