/**
 * A supervised link as a systemd Type=notify service (templates/systemd/laplink@.service):
 * READY=1 once pppd runs on the line (its pid is known) or the supervisor waits for the device to
 * appear — from then on the service does its job, and a slow cable or absent adapter must not hit
 * TimeoutStartSec. A second supervisor, an unusable profile or a pppd that cannot start at all fail
 * before READY. STATUS= follows every state change, as `laplink status` shows it.
 */
import { serviceNotifier, type ServiceNotifier } from '../runtime/sd-notify.js';
import type { LinkStatus } from './state.js';
import { linkStatusLine } from './sd-status.js';

export function notifySystemd(states: { on(event: 'state', listener: (s: LinkStatus) => void): unknown }, log: (line: string) => void): ServiceNotifier {
  const sd = serviceNotifier(process.env, log);
  states.on('state', (s) => {
    sd.status(linkStatusLine(s));
    if (s.pppdPid !== undefined || s.state === 'waiting-for-device') sd.ready();
  });
  return sd;
}
