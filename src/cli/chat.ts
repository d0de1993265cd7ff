import { spawnSync } from 'node:child_process';
import { closeSync, createReadStream, createWriteStream, fstatSync, openSync, readFileSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { isatty, ReadStream, WriteStream } from 'node:tty';
import { LaplinkError } from '../errors.js';
import { CHAT_HELP } from '../chat/usage.js';
import { parseChatArgs, type ChatCliOptions } from '../chat/options.js';
import { runChat, type ChatOutput } from '../chat/runner.js';
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
    return 0;
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
        // The FFI is loaded only when a script really sends a break: cold start stays small.
        sendBreak: async () => {
          const { loadLibc } = await import('../line/libc.js');
          loadLibc().tcsendbreak(0, 0);
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
  if (err instanceof LaplinkError) {
    writeQuietly(2, `laplink chat: ${err.message}\n`);
    return err.exitCode;
  }
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  writeQuietly(2, `laplink chat: internal error: ${text}\n`);
  return 70;
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
      const code = (err as NodeJS.ErrnoException).code;
      throw new LaplinkError(`${opts.file} -- open failed: ${code === 'ENOENT' ? 'No such file or directory' : code}`, 1);
    }
    return tokenizeFile(text, opts.file);
  }
  return tokensFromArgs(opts.script);
}

interface Line {
  stream: Duplex;
  close(): void;
}

/**
 * The line pppd gives its connect program: fds 0 and 1, the same tty. One tty.ReadStream serves
 * both directions — libuv re-opens the tty by name for it, so the O_NONBLOCK it sets lands on our
 * own open file description, never on the one pppd shares with us; termios is left alone (no
 * setRawMode). A socket on fd 0 is used as it is; other fds (pipes, files) are read and written
 * through the fs thread pool, which never changes their flags.
 */
function openLine(): Line {
  if (isatty(0)) {
    const tty = new ReadStream(0, { highWaterMark: 64 * 1024 } as never);
    // `<tty >tty` (a script tried by hand): fd 0 is open read-only, so the handle libuv reopens from
    // it cannot write. Write through fd 1's own tty handle then, as chat writes to fd 1.
    const writer = isatty(1) && openedReadOnly(0) ? new WriteStream(1) : undefined;
    writer?.on('error', () => undefined); // a write failure reaches the runner through its callback
    const stream = writer ? Duplex.from({ readable: tty, writable: writer }) : tty;
    if (writer) stream.on('error', () => undefined);
    return {
      stream,
      close: () => {
        if (writer) stream.destroy(), writer.destroy();
        tty.destroy();
        // Node restores the startup termios of tty fds 0-2 at exit and aborts the process if that
        // fails, as it does on a hung-up line. We never changed termios, so point our fds 0 and 1 at
        // /dev/null (libuv never closes stdio fds itself; open() takes the lowest free fd, and a
        // free fd 0/1 would break any later spawn). pppd keeps its own descriptor of the line.
        for (const [fd, mode] of [[0, 'r'], [1, 'w']] as const) {
          try {
            closeSync(fd);
          } catch {
            // already closed
          }
          const got = openSync('/dev/null', mode);
          if (got !== fd) closeSync(got);
        }
      },
    };
  }
  if (fstatSync(0).isSocket()) {
    const sock = new Socket({ fd: 0, readable: true, writable: true });
    return { stream: sock, close: () => sock.destroy() };
  }
  const input = createReadStream('', { fd: 0, autoClose: false, highWaterMark: 64 * 1024 });
  const outputStream = createWriteStream('', { fd: 1, autoClose: false });
  const duplex = Duplex.from({ readable: input, writable: outputStream });
  // Destroying the halves makes the pair emit ERR_STREAM_PREMATURE_CLOSE after the runner has let
  // go of it; the run's own I/O errors were seen by the runner already.
  duplex.on('error', () => undefined);
  return {
    stream: duplex,
    close: () => {
      input.destroy();
      duplex.destroy();
      // A read pending in the thread pool would keep the process alive until the peer writes.
      setTimeout(() => process.exit(), 20).unref();
    },
  };
}

/** Whether fd was opened O_RDONLY (Linux: the flags line of /proc/self/fdinfo, in octal). */
function openedReadOnly(fd: number): boolean {
  try {
    const m = /^flags:\s*([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1'));
    return m !== null && (parseInt(m[1]!, 8) & 3) === 0;
  } catch {
    return false;
  }
}
