import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import { linkStatusSchema, parseStateFile, type LinkStatus } from '../../src/pppd/state.js';
import { ReadBackError } from '../../src/runtime/read-back.js';
import type { FuzzTarget } from '../target.js';

const STATES = ['stopped', 'waiting-for-device', 'starting', 'handshaking', 'negotiating', 'up', 'down', 'backoff', 'paused', 'failed', 'done'] as const;
const iso = fc.integer({ min: 0, max: 4_102_444_800_000 }).map((t) => new Date(t).toISOString());

/** A state file as the supervisor writes it. */
const valid: fc.Arbitrary<LinkStatus> = fc.record(
  {
    name: fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,31}$/),
    state: fc.constantFrom(...STATES),
    since: iso,
    supervisorPid: fc.integer({ min: 1, max: 2 ** 22 }),
    restarts: fc.nat(),
    iface: fc.string({ maxLength: 15 }),
    message: fc.string({ maxLength: 200 }),
    lastExit: fc.record({ code: fc.integer({ min: 0, max: 255 }), meaning: fc.string({ maxLength: 40 }), at: iso }),
  },
  { requiredKeys: ['name', 'state', 'since', 'supervisorPid', 'restarts'] },
);

/** What else may sit in the directory: a valid state with one field replaced by anything, any JSON,
 *  deep nesting, arrays, junk text. */
const field = fc.constantFrom('name', 'state', 'since', 'supervisorPid', 'restarts', 'lastExit', 'iface', 'nextRetry', 'extra');
const hostile = fc.oneof(
  fc.tuple(valid, field, fc.anything({ maxDepth: 4 })).map(([s, key, v]) => JSON.stringify({ ...s, [key]: v }) ?? ''),
  fc.tuple(valid, field, fc.oneof(fc.string({ maxLength: 12 }), fc.double(), fc.integer({ min: -5, max: 5 }), fc.constant(null))).map(([s, key, v]) => JSON.stringify({ ...s, [key]: v })),
  fc.json({ maxDepth: 5 }),
  fc.integer({ min: 1, max: 3000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`),
  fc.tuple(valid, fc.integer({ min: 1, max: 3000 })).map(([s, n]) => JSON.stringify({ ...s, lastExit: { code: 1, meaning: 'x', at: s.since } }).replace('"code":1', `"code":${'{"a":'.repeat(n)}1${'}'.repeat(n)}`)),
  valid.map((s) => JSON.stringify([s])),
  fc.string({ maxLength: 200 }),
);

export const target: FuzzTarget = {
  name: 'state-file',
  description: 'state-file text → parseStateFile: a state every view can compute with, or a ReadBackError naming the file; valid files read back equal',
  property: () =>
    fc.property(fc.oneof(valid.map((s) => ({ text: JSON.stringify(s, null, 2), wrote: s as LinkStatus | undefined })), hostile.map((text) => ({ text, wrote: undefined as LinkStatus | undefined }))), ({ text, wrote }) => {
      let got: LinkStatus;
      try {
        got = parseStateFile('/run/laplink/x.json', text);
      } catch (err) {
        if (!(err instanceof ReadBackError)) throw new Error(`not a ReadBackError: ${String(err)}`);
        if (!err.message.startsWith('/run/laplink/x.json: ')) throw new Error(`the file is not named: ${err.message}`);
        if (wrote) throw new Error(`a valid state file was refused: ${err.message}`);
        return;
      }
      // what the table, the watch and the staleness rule use
      if (!STATES.includes(got.state) || typeof got.name !== 'string' || Number.isNaN(Date.parse(got.since)) || !Number.isSafeInteger(got.supervisorPid) || got.supervisorPid <= 0 || !Number.isSafeInteger(got.restarts)) throw new Error(`accepted an unusable state: ${JSON.stringify(got)}`);
      if (got.lastExit && (typeof got.lastExit.code !== 'number' || typeof got.lastExit.meaning !== 'string')) throw new Error(`accepted an unusable lastExit: ${JSON.stringify(got.lastExit)}`);
      if (!linkStatusSchema.safeParse(got).success) throw new Error('the result does not pass its own schema');
      if (wrote && !isDeepStrictEqual(got, JSON.parse(JSON.stringify(wrote)))) throw new Error(`wrote ${JSON.stringify(wrote)}, read ${JSON.stringify(got)}`);
    }),
};
