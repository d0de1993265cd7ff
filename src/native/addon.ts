/**
 * The C addon (native/*.c, built to dist/native/pump.node by `npm run build`): the data pump and the
 * few libc calls Node lacks. Without a C compiler at build time it is missing and `addon` is
 * undefined: the bridge then moves bytes in JavaScript, and the system calls (line/libc.ts) throw.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot } from '../paths.js';

export interface Addon {
  init(onEnd: (handle: number) => void): void;
  start(fdA: number, fdB: number): number;
  stop(handle: number): [Buffer, Buffer, number, number, string, number, number] | undefined;
  totals(handle: number): [number, number] | undefined;
  trimMemory(): boolean;
  /* System calls (native/syscalls.c): a negative number is -errno. */
  openPty(): number;
  ptsName(fd: number): string | number;
  makeRaw(fd: number): number;
  outputSpeed(fd: number): number;
  sendBreak(fd: number): number;
  serialCounters(fd: number, into: Buffer): number;
  sendDatagram(address: Buffer, message: Buffer): number;
  /** Absent from an addon built before it (a checkout not rebuilt). */
  socketPair?(): [number, number] | number;
  /* TLS termination (native/tls.c); absent from an addon built without OpenSSL's headers. */
  tlsInit?(onEvent: (handle: number, kind: NativeTlsEventKind, facts: NativeTlsReady & NativeTlsEnd) => void): void;
  tlsContext?(certFile: string, keyFile: string, caFile: string, clientCerts: 0 | 1 | 2): number;
  tlsContextFree?(context: number): void;
  tlsAccept?(context: number, fd: number): number;
  tlsRelay?(handle: number): number | undefined;
  tlsClose?(handle: number): void;
  /** Directed: the session's plaintext straight to a device for a while (see native-direct.ts). */
  tlsDirect?(handle: number, deviceFd: number, jsFd: number): number | undefined;
  tlsUndirect?(handle: number): [number, number] | undefined;
  tlsDirectTotals?(handle: number): [number, number] | undefined;
  /* TLS as a client (native/tls.c): '' for no client certificate, no key, or no CA file (then the system's store). */
  tlsClientContext?(certFile: string, keyFile: string, caFile: string): number;
  /** The client side of a handshake on a connected socket's fd (duplicated); '' or an IP: no SNI. -1 when no slot is free. */
  tlsConnect?(context: number, fd: number, serverName: string): number;
}

/** `detach`: a directed session met an end on the device or the client; its `reason` says which. */
export type NativeTlsEventKind = 'ready' | 'failed' | 'ended' | 'detach';

/** What a finished handshake showed: the peer's chain (leaf first, DER), OpenSSL's verdict on it, the session's protocol and cipher. */
export interface NativeTlsReady {
  chain: Buffer[];
  verifyCode: number;
  /** X509_V_ERR_ name without the prefix (Node's authorizationError spelling), '' when it verified. */
  verifyError: string;
  verifyText: string;
  protocol: string;
  cipher: string;
}

/** Why a handshake failed or a relay ended, and the plaintext bytes moved each way. */
export interface NativeTlsEnd {
  reason: string;
  /** OpenSSL's reason as Node spells error codes (ERR_SSL_WRONG_VERSION_NUMBER), an errno name, or ''. */
  code: string;
  toPlain: number;
  toTls: number;
}

/** The platform's name in prebuilds/ (the package ships prebuilds/linux-x64/pump.node, made at pack time). */
export const addonTarget = `${process.platform}-${process.arch}`;

/**
 * Where the addon may be: built by `npm run build` in a checkout (dist/native, matches this very
 * machine, so it comes first), or shipped in the npm package (prebuilds/PLATFORM-ARCH: an install
 * compiles nothing, since npm 11 skips install scripts in a global install).
 */
function candidates(): string[] {
  const root = packageRoot();
  return [join(root, 'dist', 'native', 'pump.node'), join(root, 'prebuilds', addonTarget, 'pump.node')];
}

function load(): { addon?: Addon; path: string; problem: string } {
  const require = createRequire(import.meta.url);
  let problem = `no pump.node built for ${addonTarget}`;
  for (const path of candidates()) {
    try {
      return { addon: require(path) as Addon, path, problem: '' };
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      // A missing file is expected (only one of the places has it); anything else is the real reason.
      if (e.code !== 'MODULE_NOT_FOUND') problem = e.message.split('\n')[0] ?? '';
    }
  }
  return { path: '', problem };
}

const loaded = load();
export const addon: Addon | undefined = loaded.addon;
/** The file the addon was loaded from, or ''. */
export const addonPath = loaded.path;
/** Why the addon did not load (the loader's first line), or ''. */
export const addonProblem = loaded.problem;

/**
 * Returns freed malloc memory to the kernel (malloc_trim). A thread that exited, like the config
 * loader's worker, leaves its freed heap resident in its own malloc arena: 4–7 MB of a 64-port
 * bridge's RSS, measured, that a daemon would otherwise carry for its whole life.
 */
export function trimFreedMemory(): void {
  addon?.trimMemory();
}
