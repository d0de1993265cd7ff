import { dccScript } from './dcc.js';
import { ChatUsageError } from './options.js';

export const PRESETS = ['dcc-host', 'dcc-guest'] as const;

/** Script text of a named preset; `timeout` (seconds, from -t) bounds the whole handshake. */
export function presetScript(name: string, timeout?: number): string {
  const t = timeout !== undefined && timeout > 0 ? timeout : 60;
  if (name === 'dcc-host') return dccScript('host', { timeout: t });
  if (name === 'dcc-guest') return dccScript('guest', { timeout: t, retry: 1 });
  throw new ChatUsageError(`unknown preset ${JSON.stringify(name)} (known: ${PRESETS.join(', ')})`);
}
