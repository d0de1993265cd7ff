/**
 * The values a bridge port's options take, defined once: the config schema, the CLI's choices, the
 * control port's words and the codecs all read these lists.
 */
export const PROTOCOLS = ['raw', 'telnet', 'rfc2217'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export { TERMIOS_SPEEDS, isTermiosSpeed } from '../line/speeds.js';
export { DATA_BITS, FLOWS, PARITIES, STOP_BITS } from '../line/line.js';

export const SLOW_CLIENT_POLICIES = ['pause', 'drop'] as const;
export type SlowClientPolicy = (typeof SLOW_CLIENT_POLICIES)[number];

/** Client certificates on a TLS listener. */
export const CLIENT_CERT_POLICIES = ['required', 'optional', 'none'] as const;
