import { Transform, type TransformCallback, type Writable } from 'node:stream';
import type { EngineEvent, ModemEngine } from './engine.js';
import { eventLogLine } from './event-log.js';

export interface OnlineModemOptions {
  /** The dialer's line: the modem's own answers (OK after an escape, CONNECT on ATO) go there. */
  toDialer: Writable;
  log?: (line: string) => void;
  /** Monotonic milliseconds; tests may pass their own. */
  now?: () => number;
}


/**
 * A modem after CONNECT as the stage between the dialer's line and pppd. Online, the dialer's
 * bytes come out unchanged while the engine watches them for the Hayes escape (a guard time of
 * silence, `+++`, a guard time of silence); escaped, they are commands the modem answers itself.
 * The guard time after `+++` passes on a timer, since no byte marks its end.
 *
 * Events: 'escaped' (`+++`: the modem answers commands now, what pppd sends must wait), 'resumed'
 * (ATO, or a dial while escaped: data flows both ways again), 'hung-up' (ATH: the call is over).
 *
 * Once the call is over (ATH, or hold() when pppd ended it) the dialer's bytes are the next call's:
 * they are kept, not fed to the modem, and takeUnread() hands them to whoever answers next.
 */
export class OnlineModem extends Transform {
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private held = false;
  private unread: Buffer[] = [];

  constructor(
    private readonly engine: ModemEngine,
    private readonly o: OnlineModemOptions,
  ) {
    super();
    this.now = o.now ?? (() => performance.now());
  }

  /** The call is over: what the dialer sends from now on waits for the next call's answer. */
  hold(): void {
    this.held = true;
  }

  /** The dialer's bytes this call did not read (after its hang-up), oldest first; empties the store. */
  takeUnread(): Buffer {
    const bytes = Buffer.concat(this.unread);
    this.unread = [];
    return bytes;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.held) {
      this.unread.push(chunk);
      done();
      return;
    }
    this.handle(this.engine.feed(chunk, this.now()));
    // Escaped, a flood of commands is echoed: read no more until the dialer has taken the answers.
    if (this.o.toDialer.writableNeedDrain && !this.o.toDialer.destroyed) this.o.toDialer.once('drain', () => done());
    else done();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    clearTimeout(this.timer);
    done(err);
  }

  private handle(events: EngineEvent[]): void {
    for (const e of events) {
      const line = eventLogLine(e);
      if (line !== undefined) this.o.log?.(line);
      switch (e.type) {
        case 'send':
          if (!this.o.toDialer.destroyed) this.o.toDialer.write(e.bytes);
          break;
        case 'data':
          this.push(e.bytes);
          break;
        case 'escaped':
          this.emit('escaped');
          break;
        case 'connected':
          this.emit('resumed');
          break;
        case 'hung-up':
          this.held = true;
          this.emit('hung-up');
          break;
        case 'unread':
          this.unread.push(e.bytes);
          break;
        default:
      }
    }
    this.schedule();
  }

  private schedule(): void {
    clearTimeout(this.timer);
    const at = this.engine.nextDeadline();
    if (at === undefined || this.destroyed) return;
    this.timer = setTimeout(() => this.handle(this.engine.tick(this.now())), Math.max(0, at - this.now()));
  }
}
