/**
 * Exit statuses, named once. The numbers are the README's tables: each command family has its own
 * (chat(8)'s are chat's, `modem answer` follows chat's), and a one-shot `connect` exits with pppd's
 * own status (pppd/exit.ts). No imports: chat and modem are pppd's connect programs and start cold.
 */

/** `laplink` commands: init, check, generate, remove, serve, connect, status, stop, exporter. */
export const EXIT = {
  OK: 0,
  /** The command could not do it: nothing written, a check FAILed, a link needs attention. */
  FAILED: 1,
  /** Bad profile, flag, file name or config: nothing done. */
  USAGE: 2,
  /** `status NAME`, `stop NAME`: no state file for that link. */
  NO_SUCH_LINK: 3,
  /** `stop`: the supervisor or pppd runs as another user. */
  NOT_PERMITTED: 4,
  /** A bug (sysexits EX_SOFTWARE). */
  INTERNAL: 70,
  /** Retrying cannot help (sysexits EX_CONFIG): systemd's RestartPreventExitStatus= names it. */
  CONFIG: 78,
} as const;

/** `laplink chat`: chat(8)'s statuses; ABORT string n (from 0) exits FIRST_ABORT + n. */
export const CHAT_EXIT = {
  OK: 0,
  BAD_PARAMETERS: 1,
  /** I/O error on the line, or a signal. */
  IO: 2,
  TIMEOUT: 3,
  FIRST_ABORT: 4,
} as const;

/** `laplink modem answer`: chat's numbers where the meaning is the same. */
export const MODEM_EXIT = {
  /** CONNECT given (or --help shown). */
  OK: 0,
  USAGE: 1,
  /** The line closed, or the device cannot be opened. */
  LINE: 2,
  /** Nobody dialled within --timeout. */
  TIMEOUT: 3,
} as const;
