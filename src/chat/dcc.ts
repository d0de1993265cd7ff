import { renderTemplate } from '../render/template.js';

/** 'CLIENTSERVER' + 45 × '-CLIENT\\c-CLIENTSERVER' = 1002 bytes, under chat's 1023-byte line. */
export const MAX_ATTEMPTS = 46;

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
  // chat reads script files in lines of at most STR_LEN-1 = 1023 bytes and would split a longer
  // chain into two words: so at most MAX_ATTEMPTS waits fit, and a long timeout stretches the retry.
  const retry = Math.max(options.retry ?? 1, Math.ceil(options.timeout / MAX_ATTEMPTS));
  const attempts = Math.max(1, Math.floor(options.timeout / retry));
  const retries = ['CLIENTSERVER', ...Array.from({ length: attempts - 1 }, () => 'CLIENT\\c-CLIENTSERVER')].join('-');
  return renderTemplate('chat/dcc-guest.chat', { retry, retries });
}
