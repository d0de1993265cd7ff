import fc from 'fast-check';
import { basename, dirname, join, normalize, relative } from 'node:path';
import { isGeneratedPath, isInside, JournalError, parseJournal, type Journal } from '../../src/render/journal.js';
import type { FuzzTarget } from '../target.js';

const ROOT = '/srv/root';
const GENERATED = ['/etc/ppp/peers/lnk', '/etc/ppp/chat/lnk', '/etc/ppp/options.ttyS1', '/etc/ppp/options', '/etc/ppp/pap-secrets', '/etc/ppp/chap-secrets', '/etc/hosts', '/etc/systemd/system/laplink@.service', '/etc/systemd/system/laplink@lnk.service.d/profile.conf', '/etc/laplink/lnk.inittab', '/etc/nftables.d/laplink-lnk.nft', '/etc/sysctl.d/60-laplink-lnk.conf', '/etc/ppp/ipv6-up.d/laplink-lnk'];
const hex = fc.stringMatching(/^[0-9a-f]{8}$/);

/** A path an attacker might write: generated ones, with `..`, doubled slashes, outside the root,
 *  other files of /etc, under another root that shares a prefix, or anything. */
const segment = fc.constantFrom('..', '.', '', 'etc', 'ppp', 'peers', 'shadow', 'lnk', 'root2', '.hosts.laplink-tmp-0badc0de');
const hostilePath = fc.oneof(
  fc.constantFrom(...GENERATED).map((p) => join(ROOT, p)),
  fc.constantFrom(...GENERATED),
  fc.array(segment, { maxLength: 7 }).map((s) => `${ROOT}/${s.join('/')}`),
  fc.array(segment, { maxLength: 7 }).map((s) => `/${s.join('/')}`),
  fc.constantFrom(`${ROOT}2/etc/hosts`, `${ROOT}/../etc/hosts`, `${ROOT}/etc/ppp/peers/../../shadow`, '/etc/shadow', `${ROOT}/etc/ppp/peers/lnk\0x`),
  fc.string({ maxLength: 40 }),
);

/** An entry as generate writes it, for a generated path. */
const validEntry = fc.tuple(fc.constantFrom(...GENERATED), fc.boolean(), fc.boolean(), hex, hex).map(([path, hasTemp, hasBackup, a, b]) => {
  const target = join(ROOT, path);
  const beside = (tag: string, h: string) => join(dirname(target), `.${basename(target)}.laplink-${tag}-${h}`);
  return { target, path, temp: hasTemp ? beside('tmp', a) : null, backup: hasBackup ? beside('bak', b) : null };
});
/** Generate's shape exactly, under another root (a prefix of ours, a sibling, /): only the root is wrong. */
const otherRootEntry = fc.tuple(fc.constantFrom('/', '/srv', '/srv/root2', '/tmp/x'), validEntry).map(([base, e]) => {
  const target = join(base, e.path);
  const beside = (p: string | null) => p && join(dirname(target), basename(p));
  return { target, path: e.path, temp: beside(e.temp), backup: beside(e.backup) };
});
const hostileEntry = fc.record({ target: hostilePath, path: fc.option(hostilePath, { nil: undefined }), temp: fc.option(hostilePath, { nil: null }), backup: fc.option(hostilePath, { nil: null }) });

const journal = (entries: fc.Arbitrary<unknown>) => fc.record({ version: fc.constantFrom(1, 1, 1, 2, '1'), pid: fc.oneof(fc.integer({ min: 1, max: 2 ** 22 }), fc.constant('x')), state: fc.constantFrom('prepared', 'committing', 'rolling-back', 'done'), entries: fc.array(entries, { maxLength: 6 }) });

export const target: FuzzTarget = {
  name: 'journal',
  description: 'journal text → parseJournal: only journals whose every path is inside the root, a generated file with its own temps and backups beside it; a JournalError otherwise; generate-shaped journals accepted',
  property: () =>
    fc.property(
      fc.oneof(
        journal(validEntry).map((j) => ({ text: JSON.stringify({ ...j, version: 1, pid: 7, state: 'committing' }), valid: true })),
        journal(fc.oneof(validEntry, hostileEntry)).map((j) => ({ text: JSON.stringify(j), valid: false })),
        fc.tuple(journal(validEntry), otherRootEntry).map(([j, bad]) => ({ text: JSON.stringify({ ...j, version: 1, pid: 7, state: 'committing', entries: [...j.entries, bad] }), valid: false })),
        fc.string({ maxLength: 100 }).map((text) => ({ text, valid: false })),
        fc.json({ maxDepth: 4 }).map((text) => ({ text, valid: false })),
      ),
      ({ text, valid }) => {
        let got: Journal;
        try {
          got = parseJournal('/srv/root/var/lib/laplink/generate.journal', text, ROOT);
        } catch (err) {
          if (!(err instanceof JournalError)) throw new Error(`not a JournalError: ${String(err)}`);
          if (!/nothing was changed/.test(err.message)) throw new Error(`no outcome in: ${err.message}`);
          if (valid) throw new Error(`a journal generate could write was refused: ${err.message}`);
          return;
        }
        for (const e of got.entries) {
          for (const p of [e.target, e.temp, e.backup]) {
            if (p === null) continue;
            if (normalize(p) !== p || p.split('/').includes('..') || !isInside(ROOT, p)) throw new Error(`accepted ${p}, outside ${ROOT} or not plain`);
          }
          if (!isGeneratedPath(e.path ?? `/${relative(ROOT, e.target)}`)) throw new Error(`accepted a target laplink does not generate: ${e.target}`);
          for (const [p, tag] of [[e.temp, 'tmp'], [e.backup, 'bak']] as const) {
            if (p !== null && (dirname(p) !== dirname(e.target) || !basename(p).startsWith(`.${basename(e.target)}.laplink-${tag}-`))) throw new Error(`accepted ${p} as the ${tag} of ${e.target}`);
          }
        }
      },
    ),
};
