/**
 * The native data pump (native/pump.c): moves a raw session's bytes between the device fd and the
 * socket fd on a C thread, as socat does, while JS (bridge/handover.ts and its hosts) keeps every
 * decision. It also moves a new pty's master, which libuv cannot take without blocking writes
 * (line/pty.ts).
 * Optional: when the addon was not built (no C compiler at build time) `pumpAvailable` is false and
 * the bridge moves the bytes itself, as it always could.
 */
import type { Duplex } from 'node:stream';
import { isMainThread } from 'node:worker_threads';
import { addon as loadedAddon } from './addon.js';

// The pump's state is process-wide (one thread, one epoll set): it belongs to the main thread.
const addon = isMainThread ? loadedAddon : undefined;

/** What a pump hands back when stopped: the bytes in flight and how many it moved each way. */
export interface PumpReturn {
  /** Read from A, not yet written to B (and vice versa): the caller writes them, in order, first. */
  pendingToB: Buffer;
  pendingToA: Buffer;
  movedToB: number;
  movedToA: number;
  /** '' when stopped by the caller, else what it met: 'eof on A', 'error on B', 'hangup on A'… */
  reason: string;
}

const endHandlers = new Map<number, () => void>();
addon?.init((handle) => endHandlers.get(handle)?.());

/** Whether the addon is built and loaded in this process. */
export const pumpAvailable = addon !== undefined;

export class NativePump {
  private constructor(private readonly handle: number) {}

  /**
   * Starts moving bytes between two non-blocking fds. `onEnd` runs (on the event loop) when the pump
   * met EOF, an error or a hangup on either fd; the caller then stop()s it. Undefined when there is
   * no addon, no free slot or an fd it cannot take: the caller keeps moving the bytes itself.
   */
  static start(fdA: number, fdB: number, onEnd: () => void): NativePump | undefined {
    if (!addon) return undefined;
    let handle: number;
    try {
      handle = addon.start(fdA, fdB);
    } catch {
      return undefined; // an fd epoll refuses or a blocking one: JS moves these bytes, as without the addon
    }
    if (handle < 0) return undefined;
    endHandlers.set(handle, onEnd);
    return new NativePump(handle);
  }

  /** Bytes written so far to B and to A (live statistics). */
  totals(): [number, number] {
    return addon!.totals(this.handle) ?? [0, 0];
  }

  /** Stops the pump synchronously; nothing in flight is lost, it comes back here. */
  stop(): PumpReturn {
    endHandlers.delete(this.handle);
    const r = addon!.stop(this.handle);
    if (!r) throw new Error('pump stopped twice'); // a bug in the caller, not a runtime condition
    const side = r[5] === 0 ? 'A' : 'B';
    const errno = r[6] ? ` (errno ${r[6]})` : '';
    return { pendingToB: r[0], pendingToA: r[1], movedToB: r[2], movedToA: r[3], reason: r[4] && `${r[4]} on ${side}${errno}` };
  }
}

/**
 * True for a stream we encrypt (a TLSSocket): its `_handle.fd` is the TCP socket's, carrying
 * ciphertext, so bytes written there by the pump would bypass TLS.
 */
export function isTlsStream(stream: Duplex): boolean {
  return (stream as { encrypted?: boolean }).encrypted === true;
}

/** The fd under a net.Socket or tty stream (libuv's own, non-blocking), if it has one whose bytes are the stream's own: never a TLS socket's. */
export function streamFd(stream: Duplex): number | undefined {
  if (isTlsStream(stream)) return undefined;
  const fd = (stream as unknown as { _handle?: { fd?: number } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

interface ReadingHandle {
  reading: boolean;
  readStart(): number;
  readStop(): number;
}

function handleOf(stream: Duplex): ReadingHandle | undefined {
  return (stream as unknown as { _handle?: ReadingHandle })._handle;
}

/**
 * Stops libuv reading the fd, so the pump is its only reader. `pause()` alone does not: an accepted
 * net.Socket keeps reading into its buffer up to the high-water mark while paused.
 */
export function holdReads(stream: Duplex): void {
  stream.pause();
  const h = handleOf(stream);
  if (h?.reading) {
    h.reading = false;
    h.readStop();
  }
}

/**
 * Undoes holdReads. Starts the handle directly: Readable may still believe a read is outstanding
 * from before the hold, and would then never ask the socket to read again.
 */
export function releaseReads(stream: Duplex): void {
  const h = handleOf(stream);
  if (h && !h.reading && !stream.destroyed) {
    h.reading = true;
    h.readStart();
  }
  stream.resume();
}
