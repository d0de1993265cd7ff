/**
 * The values a bridge port's options take, defined once: the config schema, the CLI's choices, the
 * control port's words and the codecs all read these lists.
 */
import type { LineSettings } from '../line/line.js';

export const PROTOCOLS = ['raw', 'telnet', 'rfc2217'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export { TERMIOS_SPEEDS, isTermiosSpeed } from '../line/speeds.js';
export const PARITIES = ['none', 'even', 'odd', 'mark', 'space'] as const;
export const FLOWS = ['none', 'rtscts', 'xonxoff'] as const;
export const DATA_BITS = [5, 6, 7, 8] as const;
export const STOP_BITS = [1, 2] as const;

/** The lists hold exactly what a Line's settings take: a value added on one side only does not compile. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const LISTS_MATCH_LINE_SETTINGS: [
  Same<(typeof PARITIES)[number], LineSettings['parity']>,
  Same<(typeof FLOWS)[number], LineSettings['flow']>,
  Same<(typeof DATA_BITS)[number], LineSettings['dataBits']>,
  Same<(typeof STOP_BITS)[number], LineSettings['stopBits']>,
] = [true, true, true, true];

export const SLOW_CLIENT_POLICIES = ['pause', 'drop'] as const;
export type SlowClientPolicy = (typeof SLOW_CLIENT_POLICIES)[number];

/** Client certificates on a TLS listener. */
export const CLIENT_CERT_POLICIES = ['required', 'optional', 'none'] as const;
