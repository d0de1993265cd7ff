/**
 * Base of every error this tool throws on purpose. The CLI prints `message` as one line (never a
 * stack trace) and exits with `exitCode`; anything else reaching the top is a bug and is reported
 * as such.
 */
export class LaplinkError extends Error {
  /** Process exit status the CLI uses when this error ends a command. */
  readonly exitCode: number;

  constructor(message: string, exitCode = 1, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** Bad input from the user: a profile, a flag, a config file. Exit status 2, nothing written. */
export class UsageError extends LaplinkError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 2, options);
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

/** A device or line could not be opened, configured or kept (missing, busy, gone). */
export class LineError extends LaplinkError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 1, options);
  }
}
