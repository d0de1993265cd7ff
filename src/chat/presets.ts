import { dccScript } from './dcc.js';
import { ChatUsageError } from './options.js';

export const PRESETS = ['dcc-host', 'dcc-guest'] as const;

/**
 * chat(8)'s own default timeout, which the presets take too: 45 s fits one CLIENT a second into
 * the guest's script line (dcc.ts, MAX_ATTEMPTS), so the guest resends every second as Windows does.
 */
export const DEFAULT_TIMEOUT = 45;

/** Script text of a named preset; `timeout` (seconds, from -t) bounds the whole handshake. */
export function presetScript(name: string, timeout?: number): string {
  const t = timeout !== undefined && timeout > 0 ? timeout : DEFAULT_TIMEOUT;
  if (name === 'dcc-host') return dccScript('host', { timeout: t });
  if (name === 'dcc-guest') return dccScript('guest', { timeout: t, retry: 1 });
  throw new ChatUsageError(`unknown preset ${JSON.stringify(name)} (known: ${PRESETS.join(', ')})`);
}
