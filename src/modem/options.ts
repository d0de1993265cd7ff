import { UsageError } from '../errors.js';

/** `laplink modem answer` options, parsed without the CLI framework (pppd's connect program starts fast). */
export interface ModemCliOptions {
  /** Speed in `CONNECT <speed>`. */
  speed: number;
  ring: boolean;
  ringIntervalSeconds: number;
  timeoutSeconds?: number;
  /** Answer on this device or pty instead of fds 0/1. */
  device?: string;
  /** No log of commands and answers on stderr. */
  quiet: boolean;
  help: boolean;
}

export const MODEM_USAGE = `usage: laplink modem answer [--speed BPS] [--ring [--ring-interval SECONDS]] [--timeout SECONDS]
                            [--device PATH] [--quiet]
Answers a dialer (Windows Dial-Up Networking, Mac OS Remote Access, wvdial, chat …) on the line as a
Hayes-compatible modem and exits 0 once it has sent CONNECT, so pppd can start PPP: use it as pppd's
connect program. The line is fds 0/1 (as pppd hands it over) or --device.
  --speed BPS          speed in "CONNECT BPS" (default 115200)
  --ring               ring the peer (RING every --ring-interval, default 6 s) until it answers (ATA, or S0)
  --timeout SECONDS    give up when nobody connects in time (exit 3); default: wait
  --device PATH        a serial device or pty to answer on, opened raw at --speed
  --quiet              do not log commands and answers on stderr
Exit status: 0 connected, 1 usage, 2 line closed or failed, 3 timeout.
`;

const positiveInt = (flag: string, text: string | undefined, max: number): number => {
  if (text === undefined || !/^\d{1,9}$/.test(text) || Number(text) < 1 || Number(text) > max) {
    throw new UsageError(`${flag} needs a whole number 1..${max}${text === undefined ? '' : `, not ${JSON.stringify(text)}`}`);
  }
  return Number(text);
};

export function parseModemArgs(argv: readonly string[]): ModemCliOptions {
  const o: ModemCliOptions = { speed: 115200, ring: false, ringIntervalSeconds: 6, quiet: false, help: false };
  const args = [...argv];
  // `laplink modem` alone must not start answering on whatever stdin is: the command is required.
  if (args[0] === 'answer') args.shift();
  else if (args[0] === '--help' || args[0] === '-h') return { ...o, help: true };
  else if (args[0] === undefined) throw new UsageError('missing command (allowed: answer)');
  else throw new UsageError(`unknown modem command ${JSON.stringify(args[0])} (allowed: answer)`);
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i]!.startsWith('--') && args[i]!.includes('=') ? [args[i]!.slice(0, args[i]!.indexOf('=')), args[i]!.slice(args[i]!.indexOf('=') + 1)] : [args[i]!, undefined];
    const value = (): string | undefined => inline ?? args[++i];
    switch (flag) {
      case '--speed':
        o.speed = positiveInt('--speed', value(), 4_000_000);
        break;
      case '--ring':
        o.ring = true;
        break;
      case '--ring-interval':
        o.ringIntervalSeconds = positiveInt('--ring-interval', value(), 60);
        break;
      case '--timeout':
        o.timeoutSeconds = positiveInt('--timeout', value(), 86_400);
        break;
      case '--device': {
        const d = value();
        if (d === undefined || !d.startsWith('/')) throw new UsageError('--device needs an absolute path such as /dev/ttyS0');
        o.device = d;
        break;
      }
      case '--quiet':
      case '-q':
        o.quiet = true;
        break;
      case '--help':
      case '-h':
        o.help = true;
        break;
      default:
        throw new UsageError(`unknown option ${JSON.stringify(args[i])} (allowed: --speed, --ring, --ring-interval, --timeout, --device, --quiet)`);
    }
  }
  return o;
}
