import type { Duplex } from 'node:stream';
import { ModemEngine, type EngineEvent, type EngineOptions } from './engine.js';
import { ModemLineError, ModemTimeoutError } from './modem-errors.js';
import { eventLogLine } from './event-log.js';
import { errnoText } from '../socket-reason.js';

export interface AnswerOptions extends EngineOptions {
  /** Give up (ModemTimeoutError) when no connection is made within this many ms. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** One line per command received and answer given (`<- ATZ`, `-> OK`, `peer dialled 5551234`). */
  log?: (line: string) => void;
  /** Monotonic milliseconds; tests may pass their own. */
  now?: () => number;
  /** A modem already in use on this line (a dialer dialling again after a hang-up keeps its settings). */
  engine?: ModemEngine;
}

export interface AnswerResult {
  how: 'dialled' | 'answered';
  speed: number;
  /** The number the peer dialled (without the T/P modifier). */
  number?: string;
  /**
   * The modem, now online: whoever keeps the line after CONNECT feeds it the dialer's bytes
   * (online.ts), so a `+++` escape and `ATH` still reach it during the call.
   */
  engine: ModemEngine;
}

/**
 * Answers a dialer on `line` as a modem until it is connected: the promise resolves once `CONNECT`
 * has been handed to the line, with reading already stopped, so the first PPP bytes the dialer
 * sends after it stay in the line for pppd. Output honours backpressure: while the dialer does not
 * read, the line is not read either, so echoing a flood stays bounded.
 */
export function answer(line: Duplex, options: AnswerOptions): Promise<AnswerResult> {
  const now = options.now ?? (() => performance.now());
  const log = options.log ?? (() => {});
  const engine = options.engine ?? new ModemEngine(options, now());
  return new Promise<AnswerResult>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let giveUp: NodeJS.Timeout | undefined;
    let done = false;
    let writing = Promise.resolve();
    let writeError: ModemLineError | undefined;
    let awaitingDrain = false;

    const finish = (err: Error | undefined, value?: AnswerResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(giveUp);
      line.off('data', onData);
      line.off('end', onEnd);
      line.off('close', onEnd);
      line.off('error', onError);
      line.off('drain', onDrain);
      options.signal?.removeEventListener('abort', onAbort);
      line.pause();
      if (err) reject(err);
      // Resolve only once CONNECT has left for the line (or say why it could not).
      else void writing.then(() => (writeError ? reject(writeError) : resolve(value!)));
    };

    const handle = (events: EngineEvent[]): void => {
      let connected: AnswerResult | undefined;
      for (const e of events) {
        const text = eventLogLine(e);
        if (text !== undefined) log(text);
        switch (e.type) {
          case 'send':
            write(e.bytes);
            break;
          case 'connected':
            connected = { how: e.how, speed: e.speed, ...(e.number !== undefined ? { number: e.number } : {}), engine };
            break;
          default:
        }
      }
      if (connected) {
        // Stop reading before anything else: whatever the dialer sends next is PPP, for pppd.
        line.pause();
        finish(undefined, connected);
      } else schedule();
    };

    const write = (bytes: Buffer): void => {
      if (bytes.length === 0) return;
      const flushed = new Promise<void>((ok) => {
        line.write(bytes, (err) => {
          if (err) {
            writeError ??= new ModemLineError(`cannot write to the line: ${errnoText(err)}`, { cause: err });
            finish(writeError);
          }
          ok();
        });
      });
      writing = writing.then(() => flushed);
      // One drain listener however many answers a flood of commands queues (not one per write).
      if (line.writableNeedDrain && !awaitingDrain) {
        awaitingDrain = true;
        line.pause();
        line.once('drain', onDrain);
      }
    };

    const onDrain = (): void => {
      awaitingDrain = false;
      if (!done) line.resume();
    };

    const schedule = (): void => {
      clearTimeout(timer);
      const at = engine.nextDeadline();
      if (at === undefined) return;
      timer = setTimeout(() => handle(engine.tick(now())), Math.max(0, at - now()));
    };

    const onData = (chunk: Buffer): void => handle(engine.feed(chunk, now()));
    const onEnd = (): void => finish(new ModemLineError('the line closed before a connection was made'));
    const onError = (err: Error): void => finish(new ModemLineError(`line error: ${err.message}`, { cause: err }));
    const onAbort = (): void => finish(new ModemLineError(`aborted${options.signal?.reason ? ` by ${String(options.signal.reason)}` : ''}`));

    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    line.on('data', onData);
    // A line handed back after a call (a pipe left it paused) flows again for the next commands.
    line.resume();
    line.once('end', onEnd);
    line.once('close', onEnd);
    line.on('error', onError);
    if (options.timeoutMs !== undefined) {
      giveUp = setTimeout(() => finish(new ModemTimeoutError(`nobody dialled within ${options.timeoutMs! / 1000} s`)), options.timeoutMs);
    }
    schedule();
  });
}
