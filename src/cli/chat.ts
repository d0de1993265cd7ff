import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { describeFailure, LaplinkError } from '../errors.js';
import { CHAT_EXIT } from '../exit-codes.js';
import { openLine } from '../line/connect-fds.js';
import { CHAT_HELP } from '../chat/usage.js';
import { parseChatArgs, type ChatCliOptions } from '../chat/options.js';
import { errText, runChat, type ChatOutput } from '../chat/runner.js';
import { tokenizeFile, tokensFromArgs, type ChatToken } from '../chat/script.js';

// This module is pppd's connect program: keep its imports to node: builtins and src/chat (cold start).

/**
 * `laplink chat` — chat(8) with the same options, over the line on fds 0 and 1 as pppd hands it
 * over. Returns chat's exit status.
 */
export async function main(argv: string[]): Promise<number> {
  let opts: ChatCliOptions;
  let tokens: ChatToken[];
  if (argv[0] === '--help' || argv[0] === '-h') {
    writeQuietly(1, `${CHAT_HELP}\n`);
    return CHAT_EXIT.OK;
  }
  try {
    opts = parseChatArgs(argv);
    tokens = await loadScript(opts);
  } catch (err) {
    return fail(err);
  }

  const lines: string[] = [];
  let reportFd: number | undefined;
  let reportName: string | undefined;
  const reportOut = (text: string): void => {
    writeQuietly(reportFd ?? 2, text);
  };
  for (const r of opts.reportFiles) {
    if (reportFd !== undefined) closeSync(reportFd);
    reportFd = undefined;
    reportName = undefined;
    try {
      reportFd = openSync(r.file, 'a');
      reportName = r.file;
      if (r.verbose) writeQuietly(reportFd, `Opening "${r.file}"...\n`);
    } catch {
      // chat falls back to stderr when the report file cannot be opened.
    }
  }

  const output: ChatOutput = {
    log(line) {
      if (opts.toStderr) writeQuietly(2, `${line}\n`);
      else if (opts.toLog) lines.push(line);
    },
    stderr(bytes) {
      writeQuietly(2, bytes);
    },
    report: reportOut,
    hangup(on) {
      hangupOn = on;
    },
  };

  let hangupOn = true;
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => (): void => {
    if (name === 'SIGHUP' && !hangupOn) return;
    controller.abort(name);
  };
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((s) => [s, onSignal(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);

  const line = openLine();
  try {
    const result = await runChat(
      tokens,
      line.stream,
      {
        verbose: opts.verbose,
        stderrVerbose: opts.stderrVerbose,
        echo: opts.echo,
        ...(opts.timeout !== undefined ? { timeout: opts.timeout } : {}),
        ...(opts.phone !== undefined ? { phone: opts.phone } : {}),
        ...(opts.phone2 !== undefined ? { phone2: opts.phone2 } : {}),
        ...(opts.useEnv ? { env: process.env } : {}),
        ...(reportName !== undefined ? { reportFileName: reportName } : {}),
        signal: controller.signal,
        // The addon is loaded only when a script really sends a break: cold start stays small.
        sendBreak: async () => {
          const { sendBreak, SyscallError } = await import('../line/libc.js');
          try {
            sendBreak(0);
          } catch (err) {
            // chat(8) ignores tcsendbreak's result (a line that is not a tty has no BREAK)
            if (!(err instanceof SyscallError)) throw err;
          }
        },
      },
      output,
    );
    if (result.error !== undefined && !opts.toStderr) writeQuietly(2, `laplink ${result.error}\n`);
    return result.exitCode;
  } catch (err) {
    return fail(err);
  } finally {
    for (const [s, h] of handlers) process.off(s, h);
    if (reportFd !== undefined) closeSync(reportFd);
    line.close();
    if (opts.verbose && lines.length > 0) toSyslog(lines);
  }
}

/**
 * chat's -v log goes to syslog (facility local2, tagged chat[pid]). Node cannot write to /dev/log
 * (a datagram Unix socket), so the lines are handed to util-linux `logger` once, at exit.
 */
function toSyslog(lines: string[]): void {
  spawnSync('logger', ['-t', 'chat', `--id=${process.pid}`, '-p', 'local2.info'], {
    input: lines.filter((l) => l.trim() !== '').join('\n') + '\n',
    stdio: ['pipe', 'ignore', 'ignore'],
    timeout: 2000,
  });
}

function fail(err: unknown): number {
  const { text, exitCode } = describeFailure(err, 'laplink chat');
  writeQuietly(2, text);
  return exitCode;
}

/**
 * chat writes its report file and stderr with stdio and never looks at the result: a full disk
 * (/dev/full), a closed pipe or a vanished terminal loses those lines, never the run. So here.
 */
function writeQuietly(fd: number, data: string | Buffer): void {
  try {
    if (typeof data === 'string') writeSync(fd, data);
    else writeSync(fd, data);
  } catch {
    // ENOSPC, EPIPE, EIO, EAGAIN on a non-blocking stderr: the text is lost, as with chat's fprintf.
  }
}

async function loadScript(opts: ChatCliOptions): Promise<ChatToken[]> {
  if (opts.preset !== undefined) {
    // Loaded only here: the presets pull in the template renderer.
    const { presetScript } = await import('../chat/presets.js');
    const text = presetScript(opts.preset, opts.timeout);
    return tokenizeFile(Buffer.from(text), `preset ${opts.preset}`);
  }
  if (opts.file !== undefined) {
    let text: Buffer;
    try {
      text = readFileSync(opts.file);
    } catch (err) {
      throw new LaplinkError(`${opts.file} -- open failed: ${errText(err)}`, CHAT_EXIT.BAD_PARAMETERS);
    }
    return tokenizeFile(text, opts.file);
  }
  return tokensFromArgs(opts.script);
}
