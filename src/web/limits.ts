/** Limits of the web listener that its config schema needs too, without loading the server. */

/** Keystrokes and small JSON requests: a frame larger than this is refused and the socket closed. */
export const MAX_FRAME_BYTES = 64 * 1024;
/** Open connections and WebSockets together; past it, new ones are refused. */
export const DEFAULT_MAX_SOCKETS = 64;

/** Pages on these hosts are reachable from this machine only: anything else needs a login. */
export function isLoopbackHost(host: string): boolean {
  return /^127\./.test(host) || host === '::1' || host === 'localhost';
}
