import { ChatScriptError } from './chat-errors.js';

/** Command-line settings of chat(8), plus laplink's `--preset`. */
export interface ChatCliOptions {
  echo: boolean; // -e
  useEnv: boolean; // -E
  verbose: boolean; // -v
  stderrVerbose: boolean; // -V
  toStderr: boolean; // -s
  toLog: boolean; // cleared by -S
  timeout?: number; // -t
  phone?: string; // -T
  phone2?: string; // -U
  /** Every -r in order: chat opens each (closing the previous) while it parses, so -v before -r matters. */
  reportFiles: { file: string; verbose: boolean }[];
  file?: string; // -f
  preset?: string; // --preset NAME
  script: string[];
}

export class ChatUsageError extends ChatScriptError {}

export const USAGE =
  'usage: laplink chat [-e] [-E] [-v] [-V] [-s] [-S] [-t timeout] [-r report-file] [-T phone] [-U phone2] {-f chat-file | --preset dcc-host|dcc-guest | chat-script}';

/**
 * Parses chat's options the way its micro-getopt does: flags may be bundled (`-vs`), an option's
 * value may be attached (`-t5`) or the next word, `--` ends the options, and the first word not
 * starting with `-` (or a lone `-`) starts the script. `--preset NAME` is ours and may appear among
 * the options.
 */
export function parseChatArgs(argv: string[]): ChatCliOptions {
  const o: ChatCliOptions = {
    echo: false, useEnv: false, verbose: false, stderrVerbose: false, toStderr: false, toLog: true,
    reportFiles: [], script: [],
  };
  let i = 0;
  const value = (flag: string, rest: string): string => {
    if (rest !== '') return rest;
    if (i < argv.length) return argv[i++]!;
    throw new ChatUsageError(`option -${flag} needs a value; ${USAGE}`);
  };
  while (i < argv.length) {
    const arg = argv[i]!;
    if (arg === '--') {
      i++;
      break;
    }
    if (arg === '--preset' || arg.startsWith('--preset=')) {
      i++;
      const name = arg === '--preset' ? argv[i++] : arg.slice('--preset='.length);
      if (!name) throw new ChatUsageError(`--preset needs a name (dcc-host or dcc-guest); ${USAGE}`);
      o.preset = name;
      continue;
    }
    if (!arg.startsWith('-') || arg === '-') break;
    i++;
    for (let j = 1; j < arg.length; j++) {
      const f = arg[j]!;
      const rest = arg.slice(j + 1);
      switch (f) {
        case 'e': o.echo = true; continue;
        case 'E': o.useEnv = true; continue;
        case 'v': o.verbose = true; continue;
        case 'V': o.stderrVerbose = true; continue;
        case 's': o.toStderr = true; continue;
        case 'S': o.toLog = false; continue;
        case 't': o.timeout = cAtoi(value(f, rest)); break;
        case 'T': o.phone = value(f, rest); break;
        case 'U': o.phone2 = value(f, rest); break;
        case 'f': o.file = value(f, rest); break;
        case 'r': {
          // chat ignores a -r with nothing after it.
          if (rest !== '' || i < argv.length) o.reportFiles.push({ file: value(f, rest), verbose: o.verbose });
          break;
        }
        default:
          throw new ChatUsageError(`unknown option -${f}; ${USAGE}`);
      }
      break; // an option with a value used up the rest of this word
    }
  }
  o.script = argv.slice(i);
  if (o.file !== undefined && o.script.length > 0) {
    throw new ChatUsageError(`-f ${o.file} and a script on the command line: give one; ${USAGE}`);
  }
  if (o.preset !== undefined && (o.file !== undefined || o.script.length > 0)) {
    throw new ChatUsageError(`--preset ${o.preset} takes no other script; ${USAGE}`);
  }
  return o;
}

/** C atoi(). */
export function cAtoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  return m ? Number(m[1]) | 0 : 0;
}
