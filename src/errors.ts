import { EXIT } from './exit-codes.js';

/**
 * Base of every error this tool throws on purpose. The CLI prints `message` as one line (never a
 * stack trace) and exits with `exitCode`; anything else reaching the top is a bug and is reported
 * as such.
 */
export class LaplinkError extends Error {
  /** Process exit status the CLI uses when this error ends a command. */
  readonly exitCode: number;

  constructor(message: string, exitCode: number = EXIT.FAILED, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** Bad input from the user: a profile, a flag, a config file. Exit status 2, nothing written. */
export class UsageError extends LaplinkError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, EXIT.USAGE, options);
  }
}

/**
 * Bad configuration text. `problems` holds one `FILE:LINE:COL: field.path: what was wrong (allowed: …)`
 * line per issue; the message is all of them, so the CLI prints every problem at once (exit 2).
 */
export class ConfigError extends UsageError {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.join('\n'));
    this.problems = problems;
  }
}

/**
 * A device or line could not be opened, configured or kept (missing, busy, gone). Given `device`,
 * the message is `DEVICE: reason`; `reason` alone is for a log line whose own prefix names the port
 * already (a bridge session's), so the device is not said twice.
 */
export class LineError extends LaplinkError {
  readonly reason: string;
  constructor(reason: string, options?: { cause?: unknown; device?: string }) {
    super(options?.device === undefined ? reason : `${options.device}: ${reason}`, EXIT.FAILED, options);
    this.reason = reason;
  }
}

/**
 * How a failure ends every entry point (the CLI, `laplink chat`, `modem answer`): the text for
 * stderr, `PROGRAM: ` before each line, and the exit status. A LaplinkError is a refusal, one line
 * per problem so each reads (and greps) alone; anything else is a bug, said as one, with its stack
 * when $LAPLINK_DEBUG is set.
 */
export function describeFailure(err: unknown, program: string): { text: string; exitCode: number } {
  if (err instanceof LaplinkError) return { text: err.message.split('\n').map((line) => `${program}: ${line}\n`).join(''), exitCode: err.exitCode };
  const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  const stack = process.env.LAPLINK_DEBUG && err instanceof Error && err.stack ? `${err.stack}\n` : '';
  return { text: `${program}: internal error: ${what}\n${stack}`, exitCode: EXIT.INTERNAL };
}
