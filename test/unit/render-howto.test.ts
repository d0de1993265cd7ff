import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseProfile } from '../../src/profile/load.js';
import { renderProfile, type RenderedFile } from '../../src/render/render.js';

/**
 * `laplink generate` on the Serial Laplink HOWTO's own setup must mean what the HOWTO's files
 * mean: the same pppd options (order aside) and the same secrets lines. The HOWTO's side is
 * test/fixtures/howto/reference.txt; our extras are listed here with the reason for each.
 */
const dir = join(import.meta.dirname, '../fixtures/howto');
const argv = ['/usr/bin/node', '/opt/ppp-laplink/bin/laplink.js'];

function reference(section: string): string[] {
  const text = readFileSync(join(dir, 'reference.txt'), 'utf8');
  const body = text.split(`[${section}]\n`)[1]!.split('\n[')[0]!;
  return body.split('\n').filter((l) => l && !l.startsWith('#'));
}

function render(file: string): { files: RenderedFile[]; hosts: Map<string, string> } {
  const p = parseProfile(readFileSync(join(dir, file), 'utf8'), file);
  const files = renderProfile(p, { profilePath: `/etc/laplink/${p.name}.yaml`, laplinkArgv: argv });
  const hostsBlock = files.find((f) => f.path === '/etc/hosts')?.content ?? '';
  const hosts = new Map(hostsBlock.split('\n').filter(Boolean).map((l) => l.split('\t').reverse() as [string, string]));
  return { files, hosts };
}

/** Option lines pppd would see across the files (comments dropped, one option per line). */
function options(files: RenderedFile[], paths: string[]): Set<string> {
  const out = new Set<string>();
  for (const f of files.filter((x) => paths.some((p) => x.path.startsWith(p)))) {
    for (const line of f.content.split('\n')) {
      const l = line.replace(/^#.*$/, '').trim();
      if (l) out.add(l);
    }
  }
  return out;
}

/** A secrets-file word as pppd reads it (quotes removed, backslash escapes undone). */
const word = (w: string) => (/^(["']).*\1$/.test(w) ? w.slice(1, -1).replace(/\\(.)/g, '$1') : w);

/** Secrets lines as word lists, host names resolved through the hosts block we write. */
function secrets(files: RenderedFile[], hosts: Map<string, string>): string[][] {
  const block = files.find((f) => f.path === '/etc/ppp/pap-secrets')!.content;
  return block
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split('\t').map((w) => hosts.get(w) ?? word(w)));
}

const OPTION_FILES = ['/etc/ppp/options', '/etc/ppp/peers/'];

describe('the HOWTO setup generates files that mean what the HOWTO files mean', () => {
  it('server on /dev/ttyS1: same options, plus only deflate, nobsdcomp and linkname', () => {
    const { files, hosts } = render('server.yaml');
    const ours = options(files, OPTION_FILES);
    const howto = new Set(reference('server options'));
    // deflate 15 / nobsdcomp: the measured default (text 2.7x the line rate; BSD-Compress loses
    // sync); linkname: pid file + supervisor's name; lcp-echo: a cut cable is noticed (the default)
    expect([...ours].filter((o) => !howto.has(o)).sort()).toEqual(['deflate 15', 'lcp-echo-failure 3', 'lcp-echo-interval 10', 'linkname howto-server', 'nobsdcomp']);
    expect([...howto].filter((o) => !ours.has(o))).toEqual([]);
    expect(secrets(files, hosts)).toEqual(reference('server pap-secrets').map((l) => l.split('\t').map(word)));
    expect(hosts.get('ppp-laplink-server')).toBe('192.168.7.1');
    expect(hosts.get('ppp-laplink-client')).toBe('192.168.7.2');
  });

  it('client zaphod on /dev/ttyS0: same options, plus deflate, nobsdcomp, linkname and explicit addresses', () => {
    const { files, hosts } = render('client.yaml');
    const ours = options(files, OPTION_FILES);
    const howto = new Set(reference('client options'));
    // the HOWTO client takes whatever the server assigns; we name both ends so a mistake shows
    expect([...ours].filter((o) => !howto.has(o)).sort()).toEqual(['192.168.7.2:192.168.7.1', 'deflate 15', 'lcp-echo-failure 3', 'lcp-echo-interval 10', 'linkname howto-client', 'nobsdcomp']);
    expect([...howto].filter((o) => !ours.has(o))).toEqual([]);
    expect(secrets(files, hosts)).toEqual(reference('client pap-secrets').map((l) => l.split('\t').map(word)));
  });

  it('the tty options file alone carries the HOWTO line settings for `pppd /dev/ttyS1`', () => {
    const { files } = render('server.yaml');
    const tty = files.find((f) => f.path === '/etc/ppp/options.ttyS1')!;
    expect(tty.kind).toBe('block');
    expect(options([tty], ['/etc/ppp/options.ttyS1'])).toEqual(new Set(['115200', 'crtscts', 'local', 'asyncmap 0']));
  });

  it('the inittab line respawns pppd for the link with nodetach, like the HOWTO', () => {
    const { files } = render('server.yaml');
    const line = files.find((f) => f.path.endsWith('.inittab'))!.content.split('\n').find((l) => l.includes(':respawn:'))!;
    const [howto] = reference('inittab');
    const fields = (l: string) => l.split(':');
    expect(fields(line).slice(1, 3)).toEqual(fields(howto!).slice(1, 3));
    expect(line).toMatch(/:\/usr\/sbin\/pppd call howto-server nodetach$/);
  });

  it('Windows variants add a chat connect line with the DCC exchange in the right direction', () => {
    for (const [file, expectFirst] of [['server-windows.yaml', 'CLIENT'], ['client-windows.yaml', "''"]] as const) {
      const { files } = render(file);
      const name = file.replace('.yaml', '');
      const peers = files.find((f) => f.path === `/etc/ppp/peers/howto-${name}`)!.content;
      // The HOWTO's `chat -v -f …`, plus -s: the log also goes to stderr, which pppd hands to its own
      // log fd, so the supervisor (and journald) see the handshake, not only syslog.
      expect(peers).toMatch(new RegExp(`^connect "/usr/sbin/chat -v -s -f /etc/ppp/chat/howto-${name}"$`, 'm'));
      const script = files.find((f) => f.path === `/etc/ppp/chat/howto-${name}`)!.content;
      const pairs = script.split('\n').filter((l) => l && !l.startsWith('#') && !l.startsWith('TIMEOUT'));
      const [expect0, send0] = pairs[0]!.split(' ');
      expect(expect0).toBe(expectFirst);
      if (file.startsWith('server')) expect(send0).toBe('CLIENTSERVER\\c'); // host answers CLIENT with CLIENTSERVER
      else expect(send0).toBe('CLIENT\\c'); // guest opens with CLIENT and waits for CLIENTSERVER
    }
  });
});
