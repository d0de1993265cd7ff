/**
 * The values a bridge port's options take, defined once: the config schema, the CLI's choices, the
 * control port's words and the codecs all read these lists.
 */
export const PROTOCOLS = ['raw', 'telnet', 'rfc2217'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export { TERMIOS_SPEEDS, isTermiosSpeed } from '../line/speeds.js';
export const PARITIES = ['none', 'even', 'odd', 'mark', 'space'] as const;
export const FLOWS = ['none', 'rtscts', 'xonxoff'] as const;
export const DATA_BITS = [5, 6, 7, 8] as const;
export const STOP_BITS = [1, 2] as const;

export const SLOW_CLIENT_POLICIES = ['pause', 'drop'] as const;
export type SlowClientPolicy = (typeof SLOW_CLIENT_POLICIES)[number];

export function isProtocol(v: string | undefined): v is Protocol {
  return (PROTOCOLS as readonly string[]).includes(v ?? '');
}

/** Client certificates on a TLS listener. */
export const CLIENT_CERT_POLICIES = ['required', 'optional', 'none'] as const;
