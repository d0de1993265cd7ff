import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { parseJsonWith, readBack, ReadBackError } from '../runtime/read-back.js';
import type { PppdEvent } from './log.js';

/**
 * The link's state machine and its state file. pppd's own output drives the transitions:
 * stopped → waiting-for-device → starting → handshaking (connect script) → negotiating (LCP after
 * "Connect:") → up (IPCP addresses) → down (pppd exited) → backoff/paused → starting …
 */
export type LinkState =
  | 'stopped'
  | 'waiting-for-device'
  | 'starting'
  | 'handshaking'
  | 'negotiating'
  | 'up'
  | 'down'
  | 'backoff'
  | 'paused'
  | 'failed'
  | 'done';

export interface LastExit {
  code: number;
  meaning: string;
  /** Why, in a person's words: the last telling pppd line or the remedy. */
  reason?: string;
  at: string;
}

/** One caller of a `listen:` link (a dial-in server over TCP), as its state file lists it. */
export interface CallerStatus {
  /** `address:port` of the TCP caller. */
  remote: string;
  /** The pool address it was given, and its IPv6 interface identifier when IPv6 is on. */
  ip: string;
  ip6?: string;
  since: string;
  state: 'handshaking' | 'running';
  bytesIn: number;
  bytesOut: number;
  /** The number a modem caller dialled. */
  dialled?: string;
  pppdPid?: number;
}

export interface LinkStatus {
  name: string;
  state: LinkState;
  /** ISO time the current state began. */
  since: string;
  supervisorPid: number;
  pppdPid?: number;
  /** true when this supervisor took over a pppd left by a previous one (killed -9). */
  adopted?: boolean;
  device?: string;
  iface?: string;
  localIp?: string;
  remoteIp?: string;
  /** IPv6 link-local addresses IPV6CP negotiated (fe80::ID, as pppd prints them). */
  localIp6?: string;
  remoteIp6?: string;
  /** The two ends' addresses on the profile's IPv6 prefix (ipv6.prefix), once IPV6CP is up. */
  localIp6Net?: string;
  remoteIp6Net?: string;
  peerUser?: string;
  /** Authentication kind used on the link (pap, chap, mschap, mschap-v2), when pppd logged it (debug). */
  authMethod?: string;
  /** What CCP settled on, e.g. "MPPE 128-bit stateless". */
  compression?: string;
  /** The number a dialing peer dialled (peer: dialup), from the modem emulator's log. */
  dialled?: string;
  /** Time the link came up (IPCP), kept while up. */
  upSince?: string;
  lastExit?: LastExit;
  restarts: number;
  nextRetry?: string;
  message?: string;
  /** A `listen:` link's callers, each on its own pppd. */
  callers?: CallerStatus[];
}

/** The fields that describe one run of pppd: its process and what it negotiated. They are set while
 *  pppd runs and cleared together when it ends, so no state ever shows an old run's interface. */
export const linkFields = ['pppdPid', 'adopted', 'iface', 'localIp', 'remoteIp', 'localIp6', 'remoteIp6', 'localIp6Net', 'remoteIp6Net', 'peerUser', 'authMethod', 'compression', 'dialled', 'upSince'] as const satisfies ReadonlyArray<keyof LinkStatus>;

/** Every link field set to undefined, for `Supervisor.set` (which deletes undefined fields). */
export function clearedLinkFields(): Partial<LinkStatus> {
  return Object.fromEntries(linkFields.map((k) => [k, undefined])) as Partial<LinkStatus>;
}

/** Link fields pppd's output changes; returns the new state or undefined for "no transition". */
export function applyEvent(s: LinkStatus, e: PppdEvent, hasConnectScript: boolean): LinkState | undefined {
  switch (e.type) {
    case 'serial-connected':
      return 'negotiating';
    case 'interface':
      s.iface = e.iface;
      return undefined;
    case 'connect':
      s.iface = e.iface;
      return 'negotiating';
    case 'peer-authenticated':
    case 'user-login':
      s.peerUser = e.user;
      return undefined;
    case 'auth-method':
      s.authMethod = e.method;
      return undefined;
    case 'chap-peer-name':
      // the name the peer answered the challenge with; a wrong secret ends pppd, which clears it
      s.peerUser = e.user;
      return undefined;
    case 'compression':
      s.compression = e.method;
      return undefined;
    case 'dialled':
      s.dialled = e.number;
      return undefined;
    case 'local-ip':
      s.localIp = e.ip;
      return s.remoteIp ? 'up' : undefined;
    case 'remote-ip':
      s.remoteIp = e.ip;
      return s.localIp ? 'up' : undefined;
    case 'local-ip6':
      s.localIp6 = e.ip;
      return undefined;
    case 'remote-ip6':
      s.remoteIp6 = e.ip;
      return undefined;
    default:
      void hasConnectScript;
      return undefined;
  }
}

export const stateFilePath = (stateDir: string, name: string) => join(stateDir, `${name}.json`);

/** Writes the state file atomically (temp file in the same directory, fsync, rename), so a reader
 *  never sees half a file even if the supervisor dies mid-write. */
export async function writeStateFile(stateDir: string, status: LinkStatus): Promise<void> {
  await mkdir(stateDir, { recursive: true });
  const final = stateFilePath(stateDir, status.name);
  const tmp = `${final}.${process.pid}.tmp`;
  const fh = await open(tmp, 'w', 0o644);
  try {
    await fh.writeFile(`${JSON.stringify(status, null, 2)}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, final);
}

/** A link's state file is a few hundred bytes; a `listen:` link's lists each caller (at most 4,096,
 *  a few hundred bytes each). Past this it is not a state file. */
export const STATE_FILE_MAX_BYTES = 1024 * 1024;

const isoTime = z.string().max(64).refine((t) => !Number.isNaN(Date.parse(t)), 'not a time');
const text = z.string().max(4096);
const pid = z.number().int().positive().max(2 ** 31 - 1);

/** What a state file must hold to be shown: every field the views compute with, of its type.
 *  Unknown fields are dropped (a newer version's, or whatever else someone put there). */
export const linkStatusSchema: z.ZodType<LinkStatus> = z.object({
  name: z.string().min(1).max(64),
  state: z.enum(['stopped', 'waiting-for-device', 'starting', 'handshaking', 'negotiating', 'up', 'down', 'backoff', 'paused', 'failed', 'done']),
  since: isoTime,
  supervisorPid: pid,
  pppdPid: pid.optional(),
  adopted: z.boolean().optional(),
  device: text.optional(),
  iface: text.optional(),
  localIp: text.optional(),
  remoteIp: text.optional(),
  localIp6: text.optional(),
  remoteIp6: text.optional(),
  localIp6Net: text.optional(),
  remoteIp6Net: text.optional(),
  peerUser: text.optional(),
  authMethod: text.optional(),
  compression: text.optional(),
  dialled: text.optional(),
  upSince: isoTime.optional(),
  lastExit: z.object({ code: z.number().int(), meaning: text, reason: text.optional(), at: isoTime }).optional(),
  restarts: z.number().int().nonnegative(),
  nextRetry: isoTime.optional(),
  message: text.optional(),
  // a pool holds at most 4,096 addresses
  callers: z
    .array(
      z.object({
        remote: text,
        ip: text,
        ip6: text.optional(),
        since: isoTime,
        state: z.enum(['handshaking', 'running']),
        bytesIn: z.number().int().nonnegative(),
        bytesOut: z.number().int().nonnegative(),
        dialled: text.optional(),
        pppdPid: pid.optional(),
      }),
    )
    .max(4096)
    .optional(),
});

/** A state file that exists but cannot be shown, and why (one line). */
export interface UnreadableState {
  /** The link name its file name says. */
  name: string;
  file: string;
  reason: string;
}

/** The text of a state file checked against the schema (pure: the fuzz target feeds it). */
export function parseStateFile(file: string, text: string): LinkStatus {
  return parseJsonWith(file, text, linkStatusSchema);
}

/**
 * The link's state, undefined when it has no state file; a ReadBackError when the file is not a
 * regular file (a FIFO, a device, a symlink), larger than STATE_FILE_MAX_BYTES, or not a state.
 */
export async function readStateFile(stateDir: string, name: string): Promise<LinkStatus | undefined> {
  const file = stateFilePath(stateDir, name);
  const got = await readBack(file, { maxBytes: STATE_FILE_MAX_BYTES });
  return got && parseStateFile(file, got.bytes.toString('utf8'));
}

export async function removeStateFile(stateDir: string, name: string): Promise<void> {
  await rm(stateFilePath(stateDir, name), { force: true });
}

/** Every link's state in the directory sorted by name, and the state files that could not be read
 *  (each with its reason): one bad file never hides the others. */
export async function readStateDir(stateDir: string): Promise<{ links: LinkStatus[]; unreadable: UnreadableState[] }> {
  let names: string[];
  try {
    names = await readdir(stateDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { links: [], unreadable: [] };
    throw err;
  }
  const links: LinkStatus[] = [];
  const unreadable: UnreadableState[] = [];
  for (const n of names.filter((f) => f.endsWith('.json')).sort()) {
    const name = n.slice(0, -5);
    try {
      const s = await readStateFile(stateDir, name);
      if (s) links.push(s);
    } catch (err) {
      unreadable.push(unreadableOf(stateDir, name, err));
    }
  }
  return { links, unreadable };
}

/** The UnreadableState for an error of readStateFile (a non-ReadBackError is a bug and is rethrown). */
export function unreadableOf(stateDir: string, name: string, err: unknown): UnreadableState {
  if (!(err instanceof ReadBackError)) throw err;
  return { name, file: stateFilePath(stateDir, name), reason: err.reason };
}

export { pidAlive } from '../pid.js';
