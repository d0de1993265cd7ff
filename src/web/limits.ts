/** Limits of the web listener that its config schema needs too, without loading the server. */

/** Keystrokes and small JSON requests: a frame larger than this is refused and the socket closed. */
export const MAX_FRAME_BYTES = 64 * 1024;
/** Open connections and WebSockets together; past it, new ones are refused. */
export const DEFAULT_MAX_SOCKETS = 64;

export { isLoopbackHost } from '../listen/address.js';
/** Failed logins per source address (an IPv6 /64) per window before it is answered 429. */
export const DEFAULT_LOGIN_LIMIT = { failures: 5, windowMs: 5 * 60_000 };
