import { LaplinkError } from '../errors.js';
import { CHAT_EXIT } from '../exit-codes.js';

/** A chat script that cannot run: bad quoting, a too-long or too-many ABORT/REPORT string. */
export class ChatScriptError extends LaplinkError {
  constructor(message: string, exitCode: number = CHAT_EXIT.BAD_PARAMETERS) {
    super(message, exitCode);
  }
}

/** The line went away or failed under us (chat's exit status 2). */
export class ChatIoError extends LaplinkError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, CHAT_EXIT.IO, options);
  }
}
