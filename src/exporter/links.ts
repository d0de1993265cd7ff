/**
 * The supervisors' state files as the exporter may trust them: read through the project's own
 * reader and schema (pppd/state.ts, as `status` reads them), bounded in how many files, so a
 * tampered or half-migrated file costs one error count, never a scrape.
 */
import { ReadBackError } from '../runtime/read-back.js';
import { pppdHoldsTty } from '../status/line-health.js';
import { readdirSync, statSync } from 'node:fs';
import { isStale } from '../status/table.js';
import { readStateFile, STATE_FILE_MAX_BYTES, stateFilePath, type LinkState, type LinkStatus } from '../pppd/state.js';
import { LINK_NAME_PATTERN } from '../profile/schema.js';

/** More links than any host has cables; files past it are counted as errors, not read. */
export const MAX_LINKS = 256;
/** A real state file is under 2 KB. */
export const MAX_STATE_FILE_BYTES = STATE_FILE_MAX_BYTES;
/** Label values longer than this are cut: a label is for matching, not for storing text. */
export const MAX_LABEL_CHARS = 128;

export const LINK_STATES = ['stopped', 'waiting-for-device', 'starting', 'handshaking', 'negotiating', 'up', 'down', 'backoff', 'paused', 'failed', 'done'] as const satisfies readonly LinkState[];


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
  info: { iface?: string; dialled?: string; authMethod?: string; compression?: string; localIp?: string; remoteIp?: string; localIp6?: string; remoteIp6?: string; localIp6Net?: string; remoteIp6Net?: string };
}

export interface LinksReading {
  links: LinkSnapshot[];
  /** One line per file that could not be shown (name: why). */
  problems: string[];
}

/** A state file checked once (by the state file's own schema, as `status` reads it): what does not
 *  change until the file does (staleness is looked at every scrape, as a supervisor can die without
 *  touching its file). */
type Parsed = { ok: true; status: LinkStatus } | { ok: false; problem: string };

/** A label value: cut to length, absent when empty. */
const label = (v: string | undefined) => (v ? v.slice(0, MAX_LABEL_CHARS) : undefined);
/** An ISO time (the schema checked it parses) as Unix seconds. */
const seconds = (iso: string | undefined) => (iso === undefined ? undefined : Date.parse(iso) / 1000);

function snapshot(s: LinkStatus): LinkSnapshot {
  // only an absolute path is a tty worth opening for its counters
  const device = s.device?.startsWith('/') ? s.device : undefined;
  const stale = isStale(s);
  return {
    name: s.name,
    state: s.state,
    stale,
    since: seconds(s.since)!,
    upSince: s.state === 'up' ? seconds(s.upSince) : undefined,
    restarts: s.restarts,
    nextRetry: s.state === 'backoff' || s.state === 'paused' ? seconds(s.nextRetry) : undefined,
    lastExit: s.lastExit && { code: s.lastExit.code, at: seconds(s.lastExit.at) },
    device,
    deviceInUse: pppdHoldsTty({ state: s.state, pppdPid: s.pppdPid, device }, stale),
    info: {
      iface: label(s.iface),
      dialled: label(s.dialled),
      authMethod: label(s.authMethod),
      compression: label(s.compression),
      localIp: label(s.localIp),
      remoteIp: label(s.remoteIp),
      localIp6: label(s.localIp6),
      remoteIp6: label(s.remoteIp6),
      localIp6Net: label(s.localIp6Net),
      remoteIp6Net: label(s.remoteIp6Net),
    },
  };
}

interface Cached {
  /** inode, mtime and size: the supervisor replaces the file whole (rename), so any write changes these. */
  key: string;
  parsed: Parsed;
}

/**
 * The state directory, looked at once per scrape: a stat per file, and a read and check only of the
 * files that changed since the last look (a link's file changes at its state transitions, not per
 * scrape). The cache holds at most MAX_LINKS entries, those of the files present.
 */
export class LinkStateDirectory {
  private readonly cache = new Map<string, Cached>();

  constructor(readonly dir: string) {}

  async read(): Promise<LinksReading> {
    let entries: string[];
    try {
      entries = readdirSync(this.dir);
    } catch (err) {
      this.cache.clear();
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { links: [], problems: [] };
      return { links: [], problems: [`${this.dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`] };
    }
    const names = entries
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -5))
      .filter((n) => LINK_NAME_PATTERN.test(n))
      .sort();
    const problems = names.length > MAX_LINKS ? [`${this.dir}: ${names.length} state files, only the first ${MAX_LINKS} are read`] : [];
    const shown = names.slice(0, MAX_LINKS);
    const present = new Set(shown);
    for (const known of this.cache.keys()) if (!present.has(known)) this.cache.delete(known);
    const read = await Promise.all(shown.map((name) => this.file(name)));
    const links: LinkSnapshot[] = [];
    read.forEach((r, i) => {
      if (r === undefined) return;
      if (r.ok) links.push({ ...snapshot(r.status), name: shown[i]! });
      else problems.push(r.problem);
    });
    return { links, problems };
  }

  private async file(name: string): Promise<Parsed | undefined> {
    const path = stateFilePath(this.dir, name);
    let key: string;
    try {
      const st = statSync(path);
      if (!st.isFile()) return { ok: false, problem: `${name}: not a regular file` };
      if (st.size > MAX_STATE_FILE_BYTES) return { ok: false, problem: `${name}: ${st.size} bytes, more than a state file ever holds (${MAX_STATE_FILE_BYTES})` };
      key = `${st.ino}:${st.mtimeMs}:${st.size}`;
    } catch {
      this.cache.delete(name);
      return undefined; // removed between the listing and the look
    }
    const cached = this.cache.get(name);
    if (cached?.key === key) return cached.parsed;
    let parsed: Parsed;
    try {
      const status = await readStateFile(this.dir, name);
      if (status === undefined) return undefined;
      parsed = { ok: true, status };
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ENOENT') return undefined;
      // the state reader's own words (not JSON, not a state, a FIFO…), without the path it starts with
      parsed = { ok: false, problem: `${name}: ${err instanceof ReadBackError ? err.reason : (e.code ?? e.message)}` };
    }
    this.cache.set(name, { key, parsed });
    return parsed;
  }
}

/** Every link in the state directory (none when it does not exist yet), sorted by name. */
export function readLinks(stateDir: string): Promise<LinksReading> {
  return new LinkStateDirectory(stateDir).read();
}
