import { writeSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import type { Command } from 'commander';
import { describeFailure } from '../errors.js';
import { MODEM_EXIT } from '../exit-codes.js';
import { openLine } from '../line/connect-fds.js';
import { MODEM_USAGE, parseModemArgs, type ModemCliOptions } from '../modem/options.js';
import { answer } from '../modem/session.js';
import { ModemLineError } from '../modem/modem-errors.js';

// pppd's connect program for `peer: dialup`: imports stay node: builtins and src/modem (cold start).

/**
 * `laplink modem answer`: answer a dialer as a modem on fds 0/1 (or --device) and exit 0 after
 * CONNECT. Every command received and answer given goes to stderr, which pppd passes to its log.
 */
export async function main(argv: string[]): Promise<number> {
  let opts: ModemCliOptions;
  try {
    opts = parseModemArgs(argv);
  } catch (err) {
    writeSync(2, `laplink modem: ${(err as Error).message} (laplink modem --help)\n`);
    return MODEM_EXIT.USAGE;
  }
  if (opts.help) {
    writeSync(1, MODEM_USAGE);
    return MODEM_EXIT.OK;
  }
  const controller = new AbortController();
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((s) => [s, () => controller.abort(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);
  let line: { stream: Duplex; close(): void | Promise<void> } | undefined;
  try {
    line = opts.device ? await openDevice(opts.device, opts.speed) : openLine();
    const log = opts.quiet ? undefined : (text: string) => writeSync(2, `modem: ${text}\n`);
    const r = await answer(line.stream, {
      connectSpeed: opts.speed,
      ring: opts.ring,
      ringIntervalMs: opts.ringIntervalSeconds * 1000,
      ...(opts.timeoutSeconds !== undefined ? { timeoutMs: opts.timeoutSeconds * 1000 } : {}),
      signal: controller.signal,
      ...(log ? { log } : {}),
    });
    log?.(`connected at ${r.speed}: ${r.how === 'dialled' ? `peer dialled ${r.number}` : 'answered the call'}`);
    return MODEM_EXIT.OK;
  } catch (err) {
    const { text, exitCode } = describeFailure(err, 'laplink modem');
    writeSync(2, text);
    return exitCode;
  } finally {
    for (const [s, h] of handlers) process.off(s, h);
    await line?.close();
  }
}

/**
 * A device or pty named on the command line, opened raw (loaded only then: serialport is not small).
 * One that cannot be opened is a failed line (exit 2), as the usage text says, not a usage error.
 */
async function openDevice(path: string, speed: number): Promise<{ stream: Duplex; close(): Promise<void> }> {
  const { openSerialLine } = await import('../line/serial.js');
  try {
    const line = await openSerialLine({ path, settings: { speed } });
    return { stream: line.stream, close: () => line.close() };
  } catch (err) {
    throw new ModemLineError(err instanceof Error ? err.message : String(err), { cause: err });
  }
}

/** For `laplink --help` and commander's dispatch; bin/laplink.js normally runs main() before commander loads. */
export function register(program: Command): void {
  program
    .command('modem')
    .description('answer a dialer as a Hayes modem (`modem answer`, pppd connect program for peer: dialup)')
    .allowUnknownOption()
    .helpOption(false)
    .argument('[args...]', 'answer [--speed BPS] [--ring [--ring-interval SECONDS]] [--timeout SECONDS] [--device PATH] [--quiet]')
    .action(async (args: string[]) => {
      process.exitCode = await main(args);
    });
}
