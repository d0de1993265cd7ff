import { LineError } from '../errors.js';
import { NoModemLinesError } from '../line/line.js';

/** Why a request to the line failed, for a session's log line: that line's prefix names the port
 *  and the client already, so a LineError gives its reason without the device in front. */
export function lineFailureReason(e: unknown): string {
  return e instanceof LineError ? e.reason : e instanceof Error ? e.message : String(e);
}

/**
 * How a session reports a DTR, RTS or BREAK request the line refused. A client toggles those often
 * (pyserial on open, a terminal's BREAK key), and on a device without modem lines every request
 * fails the same way: that is said once per session; any other failure is said each time.
 */
export class ModemLineFailures {
  private saidNoLines = false;

  constructor(
    private readonly log: (line: string) => void,
    /** The session's protocol, first word of each line: `rfc2217`, `telnet`. */
    private readonly protocol: string,
  ) {}

  /** `request` names what failed when it is not a modem-line change in general (`break`). */
  report(err: unknown, request?: string): void {
    if (err instanceof NoModemLinesError) {
      if (!this.saidNoLines) this.log(`${this.protocol}: the device is a pty, which has no modem lines: DTR, RTS and BREAK requests are answered, not applied`);
      this.saidNoLines = true;
      return;
    }
    this.log(`${this.protocol}${request ? `: ${request}` : ''}: ${lineFailureReason(err)}`);
  }
}
