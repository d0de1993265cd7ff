/**
 * A lone session whose TLS is terminated natively, carried straight between its SSL session and the
 * device on the TLS thread (native/tls.c's directed mode), rather than by the pump between the
 * device and the session's socketpair: one thread and no hop between two, as socat does it, which
 * is what a round trip costs. The handover (bridge/handover.ts) uses it as it uses the pump, with
 * the same contract: taking the session back is synchronous and loses nothing (what the thread
 * holds for the device comes back through the socketpair, in order, before anything newer).
 */
import type { Duplex } from 'node:stream';
import { addon, type NativeTlsEventKind } from '../native/addon.js';
import type { PumpReturn } from '../native/pump.js';

const nothing = Buffer.alloc(0);

/** Why TLS cannot be terminated natively in this process, or undefined when it can. */
export function nativeTlsProblem(): string | undefined {
  if (!addon?.tlsInit) return 'the addon was built without OpenSSL headers (libssl-dev), or not at all';
  // The addon's OpenSSL calls resolve against the node binary's own OpenSSL 3 when first made: a
  // Node without it (or with 1.1) would end the process at that call, not throw.
  if (!/^3\./.test(process.versions.openssl ?? '')) return `it needs Node's OpenSSL 3 (this Node has ${process.versions.openssl ?? 'none'})`;
  return undefined;
}

// This module is light on purpose (it imports the addon only): the handover and the data path line,
// loaded by every bridge, ask it about TLS without loading TLS, which a plain bridge never does.
/** The native TLS session behind each socketpair socket handed on. */
const sessionOf = new WeakMap<object, number>();
/** Directed sessions: told of a `detach`, or of the session's end. */
const directed = new Map<number, (reason: string) => void>();

export function registerNativeTlsSocket(socket: object, handle: number): void {
  sessionOf.set(socket, handle);
}

/** The addon's news of session `handle` after its relay started (native-session.ts dispatches it). */
export function directEvent(handle: number, kind: NativeTlsEventKind, reason: string): void {
  directed.get(handle)?.(reason);
  if (kind !== 'detach') directed.delete(handle);
}

export class NativeTlsDirect {
  /** What the thread met (an end on the device or the client), or '' while it met nothing. */
  private endReason = '';
  /** The last totals read: a session that ended has none left to read. */
  private last: [number, number] = [0, 0];

  private constructor(private readonly handle: number) {}

  /**
   * Directs the session behind `socket` (a socketpair socket from native TLS, its reads held) to
   * the device. Undefined when `socket` is not such a session or it cannot be directed now (an end
   * under way): the caller then carries it as any other.
   */
  static start(deviceFd: number, socket: Duplex, socketFd: number, onEnd: () => void): NativeTlsDirect | undefined {
    const handle = sessionOf.get(socket);
    if (handle === undefined || !addon?.tlsDirect || !addon.tlsUndirect || !addon.tlsDirectTotals) return undefined;
    const carrier = new NativeTlsDirect(handle);
    directed.set(handle, (reason) => {
      carrier.endReason ||= reason || 'session ended';
      onEnd();
    });
    if (addon.tlsDirect(handle, deviceFd, socketFd) !== 0) {
      directed.delete(handle);
      return undefined;
    }
    return carrier;
  }

  /** Bytes written so far to the socket's side (read from the device) and to the device. */
  totals(): [number, number] {
    const t = addon!.tlsDirectTotals!(this.handle);
    if (t) this.last = t;
    return this.last;
  }

  /** The session back on its socketpair, synchronously. */
  stop(): PumpReturn {
    directed.delete(this.handle);
    const t = addon!.tlsUndirect!(this.handle);
    if (t) this.last = t;
    const [fromDevice, toDevice] = this.last;
    return { pendingToA: nothing, pendingToB: nothing, movedToB: fromDevice, movedToA: toDevice, reason: t ? this.endReason : this.endReason || 'session ended' };
  }
}
