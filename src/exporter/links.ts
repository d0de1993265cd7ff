/**
 * The supervisors' state files as the exporter may trust them: read through the project's own
 * reader (pppd/state.ts), but bounded first (how many files, how big) and checked field by field
 * after, so a tampered or half-migrated file costs one error count, never a scrape.
 */
import { readdir, stat } from 'node:fs/promises';
import { z } from 'zod';
import { isStale } from '../pppd/report.js';
import { readStateFile, stateFilePath, type LinkState, type LinkStatus } from '../pppd/state.js';
import { LINK_NAME_PATTERN } from '../profile/schema.js';

/** More links than any host has cables; files past it are counted as errors, not read. */
export const MAX_LINKS = 256;
/** A real state file is under 2 KB. */
export const MAX_STATE_FILE_BYTES = 64 * 1024;
/** Label values longer than this are cut: a label is for matching, not for storing text. */
export const MAX_LABEL_CHARS = 128;

export const LINK_STATES = ['stopped', 'waiting-for-device', 'starting', 'handshaking', 'negotiating', 'up', 'down', 'backoff', 'paused', 'failed', 'done'] as const satisfies readonly LinkState[];

/** States in which pppd runs and holds the link's tty open. */
const PPPD_HOLDS_TTY: ReadonlySet<LinkState> = new Set(['starting', 'handshaking', 'negotiating', 'up']);

/** What the exporter shows of one link. Times are Unix seconds. */
export interface LinkSnapshot {
  name: string;
  state: LinkState;
  stale: boolean;
  since: number;
  upSince?: number;
  restarts: number;
  nextRetry?: number;
  lastExit?: { code: number; at?: number };
  device?: string;
  /** The device is a tty pppd has open now (worth reading its counters). */
  deviceInUse: boolean;
  info: { iface?: string; dialled?: string; authMethod?: string; compression?: string; localIp?: string; remoteIp?: string; localIp6?: string; remoteIp6?: string };
}

const text = z
  .string()
  .transform((s) => s.slice(0, MAX_LABEL_CHARS))
  .optional()
  .catch(undefined);
const time = z
  .string()
  .transform((s) => Date.parse(s) / 1000)
  .pipe(z.number().finite())
  .optional()
  .catch(undefined);
const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

const stateFile = z.object({
  state: z.enum(LINK_STATES),
  since: z
    .string()
    .transform((s) => Date.parse(s) / 1000)
    .pipe(z.number().finite()),
  supervisorPid: z.number().int(),
  restarts: count,
  pppdPid: z.number().int().positive().optional().catch(undefined),
  upSince: time,
  nextRetry: time,
  lastExit: z
    .object({ code: z.number().int().min(0).max(255), at: time })
    .optional()
    .catch(undefined),
  device: z.string().startsWith('/').max(4096).optional().catch(undefined),
  iface: text,
  dialled: text,
  authMethod: text,
  compression: text,
  localIp: text,
  remoteIp: text,
  localIp6: text,
  remoteIp6: text,
});

export interface LinksReading {
  links: LinkSnapshot[];
  /** One line per file that could not be shown (name: why). */
  problems: string[];
}

function snapshot(name: string, raw: LinkStatus): LinkSnapshot | string {
  const r = stateFile.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    return `${name}: ${issue.path.join('.') || 'file'}: ${issue.message}`;
  }
  const s = r.data;
  const { device, iface, dialled, authMethod, compression, localIp, remoteIp, localIp6, remoteIp6 } = s;
  const stale = isStale({ ...raw, state: s.state, supervisorPid: s.supervisorPid });
  return {
    name,
    state: s.state,
    stale,
    since: s.since,
    upSince: s.state === 'up' ? s.upSince : undefined,
    restarts: s.restarts,
    nextRetry: s.state === 'backoff' || s.state === 'paused' ? s.nextRetry : undefined,
    lastExit: s.lastExit,
    device,
    deviceInUse: device !== undefined && !stale && s.pppdPid !== undefined && PPPD_HOLDS_TTY.has(s.state),
    info: { iface, dialled, authMethod, compression, localIp, remoteIp, localIp6, remoteIp6 },
  };
}

/** Every link in the state directory (none when it does not exist yet), sorted by name. */
export async function readLinks(stateDir: string): Promise<LinksReading> {
  let entries: string[];
  try {
    entries = await readdir(stateDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { links: [], problems: [] };
    return { links: [], problems: [`${stateDir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`] };
  }
  const names = entries
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .filter((n) => LINK_NAME_PATTERN.test(n))
    .sort();
  const problems = names.length > MAX_LINKS ? [`${stateDir}: ${names.length} state files, only the first ${MAX_LINKS} are read`] : [];
  const read = await Promise.all(
    names.slice(0, MAX_LINKS).map(async (name): Promise<LinkSnapshot | string | undefined> => {
      try {
        const st = await stat(stateFilePath(stateDir, name));
        if (!st.isFile()) return `${name}: not a regular file`;
        if (st.size > MAX_STATE_FILE_BYTES) return `${name}: ${st.size} bytes, more than a state file ever holds (${MAX_STATE_FILE_BYTES})`;
        const raw = await readStateFile(stateDir, name);
        if (raw === undefined) return undefined; // removed between the listing and the read
        if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return `${name}: not a JSON object`;
        return snapshot(name, raw);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        if (e.code === 'ENOENT') return undefined;
        return `${name}: ${e instanceof SyntaxError ? 'not valid JSON' : (e.code ?? e.message)}`;
      }
    }),
  );
  const links: LinkSnapshot[] = [];
  for (const r of read) {
    if (typeof r === 'string') problems.push(r);
    else if (r) links.push(r);
  }
  return { links, problems };
}
