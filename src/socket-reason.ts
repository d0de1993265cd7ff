/** Socket errors as a person says them (`connection refused`, not `connect ECONNREFUSED 127.0.0.1:4001`), for
 * the log lines and error messages of server, client and rotator alike. */
const SOCKET_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed (temporary)',
  EPIPE: 'connection closed by peer',
  EADDRNOTAVAIL: 'address not available',
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied',
};

export function socketReason(err: NodeJS.ErrnoException): string {
  return (err.code && SOCKET_ERRORS[err.code]) ?? err.message;
}
