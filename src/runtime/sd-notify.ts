/**
 * systemd's notify protocol (sd_notify(3)), spoken directly: one datagram of `KEY=VALUE` lines to the
 * AF_UNIX socket named in $NOTIFY_SOCKET (a path, or `@name` for the abstract namespace). Node has
 * no AF_UNIX datagram sockets, so the project's addon sends it (line/libc.ts sendDatagram), from a
 * new socket each time as libsystemd's sd_notify does: nothing stays open between messages.
 *
 * Like sd_notify's `unset_environment`, the variables are taken out of process.env at start, so
 * pppd and the programs it runs never inherit them and cannot speak for this service.
 */
import { LaplinkError } from '../errors.js';
import { sendDatagram } from '../line/libc.js';

const AF_UNIX = 1;
/** sizeof(sockaddr_un.sun_path) on Linux. */
const SUN_PATH_MAX = 108;

/**
 * struct sockaddr_un for $NOTIFY_SOCKET, and the length to pass: `@` becomes the leading NUL of an
 * abstract name (whose length counts exactly its bytes), a path gets its terminating NUL.
 * Undefined for anything else (sd_notify ignores such a value too).
 */
export function notifyAddress(value: string): { addr: Buffer; length: number } | undefined {
  const abstract = value.startsWith('@');
  if (!abstract && !value.startsWith('/')) return undefined;
  const name = Buffer.from(abstract ? `\0${value.slice(1)}` : value);
  if (name.length > (abstract ? SUN_PATH_MAX : SUN_PATH_MAX - 1)) return undefined;
  const addr = Buffer.alloc(2 + SUN_PATH_MAX);
  addr.writeUInt16LE(AF_UNIX, 0); // sa_family_t, host order (x86, arm: little-endian)
  name.copy(addr, 2);
  return { addr, length: 2 + name.length + (abstract ? 0 : 1) };
}

/** Half of $WATCHDOG_USEC in ms, as sd_watchdog_enabled(3) advises; undefined when the watchdog is off
 *  or meant for another process ($WATCHDOG_PID). */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv, pid = process.pid): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!env.WATCHDOG_USEC || !Number.isSafeInteger(usec) || usec <= 0) return undefined;
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 2000));
}

/** What a service tells systemd. Every method is a no-op when not started by systemd with Type=notify. */
export interface ServiceNotifier {
  /** READY=1, once. */
  ready(): void;
  /** STATUS=line (one line; sent only when it changed). */
  status(line: string): void;
  /** STOPPING=1, once. */
  stopping(): void;
  /** Stops the watchdog pings; nothing is sent after it. */
  close(): void;
}

/**
 * The notifier for this process: reads (and removes) $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID,
 * and pings WATCHDOG=1 at half the watchdog interval from an unref'd timer: pings come only while
 * the event loop turns, so a hung service misses them and systemd restarts it.
 * `onProblem` hears, once, why a datagram could not be sent.
 */
export function serviceNotifier(env: NodeJS.ProcessEnv = process.env, onProblem: (text: string) => void = () => undefined): ServiceNotifier {
  const socketValue = env.NOTIFY_SOCKET;
  const watchdogMs = watchdogIntervalMs(env);
  delete env.NOTIFY_SOCKET;
  delete env.WATCHDOG_USEC;
  delete env.WATCHDOG_PID;
  const noop: ServiceNotifier = { ready() {}, status() {}, stopping() {}, close() {} };
  if (!socketValue) return noop;
  const target = notifyAddress(socketValue);
  if (!target) {
    onProblem(`NOTIFY_SOCKET ${JSON.stringify(socketValue)} is neither an absolute path nor @abstract (at most ${SUN_PATH_MAX - 1} bytes); not notifying systemd`);
    return noop;
  }
  const address = target.addr.subarray(0, target.length);
  let closed = false;
  let complained = false;
  const send = (text: string): void => {
    if (closed) return;
    try {
      sendDatagram(address, Buffer.from(text));
    } catch (err) {
      if (!(err instanceof LaplinkError)) throw err;
      if (complained) return;
      complained = true;
      onProblem(`cannot notify systemd at ${socketValue}: ${err.message}`);
    }
  };
  let readySent = false;
  let stoppingSent = false;
  let lastStatus: string | undefined;
  const timer = watchdogMs === undefined ? undefined : setInterval(() => send('WATCHDOG=1'), watchdogMs);
  timer?.unref();
  if (watchdogMs !== undefined) send('WATCHDOG=1');
  return {
    ready() {
      if (readySent) return;
      readySent = true;
      send('READY=1');
    },
    status(line) {
      const one = line.replace(/[\r\n]+/g, ' ');
      if (one === lastStatus) return;
      lastStatus = one;
      send(`STATUS=${one}`);
    },
    stopping() {
      if (stoppingSent) return;
      stoppingSent = true;
      send('STOPPING=1');
    },
    close() {
      if (timer) clearInterval(timer);
      closed = true;
    },
  };
}
