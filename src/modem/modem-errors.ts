import { LaplinkError } from '../errors.js';
import { MODEM_EXIT } from '../exit-codes.js';

/** The line closed or failed before the dialer got CONNECT (exit status 2, as chat's I/O errors). */
export class ModemLineError extends LaplinkError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, MODEM_EXIT.LINE, options);
  }
}

/** Nobody dialled within --timeout (exit status 3, as chat's timeout). */
export class ModemTimeoutError extends LaplinkError {
  constructor(message: string) {
    super(message, MODEM_EXIT.TIMEOUT);
  }
}
