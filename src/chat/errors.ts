import { LaplinkError } from '../errors.js';

/** A chat script that cannot run: bad quoting, a too-long or too-many ABORT/REPORT string. */
export class ChatScriptError extends LaplinkError {
  constructor(message: string, exitCode = 1) {
    super(message, exitCode);
  }
}

/** The line went away or failed under us (chat's exit status 2). */
export class ChatIoError extends LaplinkError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 2, options);
  }
}
