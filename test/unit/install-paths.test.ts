/**
 * Which `laplink` generated files name: npm's bin link when the package is installed (global:
 * PREFIX/bin/laplink for PREFIX/lib/node_modules/NAME; local: node_modules/.bin/laplink), which
 * survives an upgrade of the package; nothing (so the checkout's bin/laplink.js) otherwise.
 * Real directories and symlinks laid out as npm lays them out.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { installedBinLink } from '../../src/paths.js';

const work = mkdtempSync(join(tmpdir(), 'laplink-paths-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function packageAt(root: string): string {
  mkdirSync(join(root, 'bin'), { recursive: true });
  writeFileSync(join(root, 'bin', 'laplink.js'), '');
  return root;
}

describe('installedBinLink', () => {
  it('global install: PREFIX/bin/laplink', () => {
    const prefix = join(work, 'global');
    const root = packageAt(join(prefix, 'lib/node_modules/ppp-laplink'));
    mkdirSync(join(prefix, 'bin'));
    symlinkSync('../lib/node_modules/ppp-laplink/bin/laplink.js', join(prefix, 'bin', 'laplink'));
    expect(installedBinLink(root)).toBe(join(prefix, 'bin', 'laplink'));
  });

  it('local install: node_modules/.bin/laplink', () => {
    const project = join(work, 'project');
    const root = packageAt(join(project, 'node_modules/ppp-laplink'));
    mkdirSync(join(project, 'node_modules/.bin'));
    symlinkSync('../ppp-laplink/bin/laplink.js', join(project, 'node_modules/.bin/laplink'));
    expect(installedBinLink(root)).toBe(join(project, 'node_modules/.bin/laplink'));
  });

  it('a link to another package, or no link: none (the caller names bin/laplink.js)', () => {
    const prefix = join(work, 'other');
    const root = packageAt(join(prefix, 'lib/node_modules/ppp-laplink'));
    const other = packageAt(join(prefix, 'lib/node_modules/ppp-laplink-old'));
    mkdirSync(join(prefix, 'bin'));
    symlinkSync(join(other, 'bin/laplink.js'), join(prefix, 'bin', 'laplink'));
    expect(installedBinLink(root)).toBeUndefined();
    expect(installedBinLink(packageAt(join(work, 'checkout')))).toBeUndefined();
  });
});
