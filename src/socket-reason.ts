/**
 * Errno codes as a person says them (`no such file or directory`, `connection refused`), never the
 * bare code: one table for files, devices and sockets, used by every message that reaches a user.
 */
const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a parent is not a directory',
  EISDIR: 'is a directory',
  EEXIST: 'already exists',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EIO: 'input/output error',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
  EMFILE: 'too many open files',
  EBUSY: 'device or resource busy',
  ENXIO: 'no such device (not connected?)',
  ENODEV: 'no such device',
  ENOTTY: 'not a terminal',
  EAGAIN: 'resource temporarily unavailable',
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
};

/** `no such file or directory` for an errno error; its message (without a leading `CODE: `) otherwise. */
export function errnoText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code && ERRNO_TEXT[code]) return ERRNO_TEXT[code];
  if (err instanceof Error) return err.message.replace(/^[A-Z]+: /, '');
  // an errno-like object that is no Error (a native call's result): its code, not "[object Object]"
  if (typeof code === 'string' && code) return code;
  const message = (err as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' && message ? message : String(err);
}

/** Socket errors as a person says them (`connection refused`, not `connect ECONNREFUSED 127.0.0.1:4001`). */
export function socketReason(err: NodeJS.ErrnoException): string {
  return (err.code && ERRNO_TEXT[err.code]) ?? err.message;
}
