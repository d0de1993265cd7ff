/**
 * One line of link state for systemd's STATUS= (what `systemctl status` shows under the unit), built
 * from the same LinkStatus that `laplink status` shows as a table:
 *   up ppp0 192.168.7.1 -> 192.168.7.2 peer labuser, 2 restarts
 *   backoff: retry in 8 s after exit 16 line hung up
 *   failed: exit 4 no kernel PPP support
 */
import { plural } from '../plural.js';
import type { LinkStatus } from './state.js';

const exitText = (s: LinkStatus) => (s.lastExit ? `exit ${s.lastExit.code} ${s.lastExit.meaning}` : undefined);

export function linkStatusLine(s: LinkStatus, now = Date.now()): string {
  const restarts = plural(s.restarts, 'restart');
  switch (s.state) {
    case 'up': {
      const where = [s.iface, s.localIp && s.remoteIp ? `${s.localIp} -> ${s.remoteIp}` : undefined, s.peerUser ? `peer ${s.peerUser}` : undefined];
      const detail = where.filter(Boolean).join(' ');
      return `up${detail ? ` ${detail}` : ''}, ${restarts}`;
    }
    case 'backoff':
    case 'paused': {
      const wait = s.nextRetry ? `retry in ${Math.max(0, Math.ceil((Date.parse(s.nextRetry) - now) / 1000))} s` : 'retrying';
      if (s.state === 'paused') return `paused: pppd respawning too fast, ${wait}`;
      const why = exitText(s);
      return `backoff: ${wait}${why ? ` after ${why}` : ''}`;
    }
    case 'failed':
    case 'done':
    case 'down':
      return `${s.state}: ${exitText(s) ?? s.message ?? 'pppd ended'}`;
    case 'waiting-for-device':
      return `waiting for ${s.device ?? 'the device'} to appear`;
    case 'starting':
    case 'handshaking':
    case 'negotiating': {
      const pid = s.pppdPid ? ` (pppd ${s.pppdPid}${s.adopted ? ', adopted' : ''})` : '';
      return `${s.state}${pid}, ${restarts}`;
    }
    case 'stopped':
      return 'stopped';
  }
}
