import { renderTemplate } from '../render/template.js';

/** The two roles of Windows Direct Cable Connection, named as Windows names them. */
export type DccRole = 'host' | 'guest';

export interface DccOptions {
  /** Seconds to wait in all for the peer. */
  timeout: number;
  /** Guest only: seconds between resent CLIENTs. */
  retry?: number;
}

/**
 * The chat(8) script for one DCC role, from templates/chat/. The same text serves real chat and our
 * engine's `--preset`, so the two can never drift apart.
 *
 * The guest's resending is a chain of subexpects (`CLIENTSERVER-CLIENT\c-CLIENTSERVER…`), each
 * waiting `retry` seconds, as many as fit into `timeout`.
 */
export function dccScript(role: DccRole, options: DccOptions): string {
  if (role === 'host') return renderTemplate('chat/dcc-host.chat', { timeout: options.timeout });
  const retry = options.retry ?? 1;
  const attempts = Math.max(1, Math.floor(options.timeout / retry));
  const retries = ['CLIENTSERVER', ...Array.from({ length: attempts - 1 }, () => 'CLIENT\\c-CLIENTSERVER')].join('-');
  return renderTemplate('chat/dcc-guest.chat', { retry, retries });
}
