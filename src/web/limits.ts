/** Limits of the web listener that its config schema needs too, without loading the server. */

/** Keystrokes and small JSON requests: a frame larger than this is refused and the socket closed. */
export const MAX_FRAME_BYTES = 64 * 1024;
/** Open connections and WebSockets together; past it, new ones are refused. */
export const DEFAULT_MAX_SOCKETS = 64;

export { isLoopbackHost } from '../listen/address.js';
