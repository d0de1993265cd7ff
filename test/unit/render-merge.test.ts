import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lineEnding, ManagedBlockError, mergeBlock, readBlock, removeBlock } from '../../src/render/block.js';
import { secretsLine } from '../../src/render/secrets.js';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, '../fixtures/merge', name), 'utf8');
const ours = secretsLine({ client: 'labuser', server: '*', secret: 'lab pass "q"', ips: ['192.168.7.2'] });

describe('managed blocks on messy real-world files', () => {
  it('appends to a pap-secrets with quotes, tabs, comments and no final newline, keeping every byte', () => {
    const messy = fixture('pap-secrets.messy');
    expect(messy.endsWith('\n')).toBe(false);
    const merged = mergeBlock(messy, 'lab', ours);
    // the old text is a prefix, then exactly one line break (the old last line needed one), then our block
    expect(merged.startsWith(messy)).toBe(true);
    expect(merged.slice(messy.length)).toBe(`\n# BEGIN ppp-laplink lab\n${ours}\n# END ppp-laplink lab\n`);
    expect(readBlock(merged, 'lab')).toBe(ours);
  });

  it('updates its block in place and is idempotent', () => {
    const messy = fixture('pap-secrets.messy');
    const once = mergeBlock(messy, 'lab', ours);
    expect(mergeBlock(once, 'lab', ours)).toBe(once);
    const changed = mergeBlock(once, 'lab', 'labuser\t*\t"new"');
    expect(changed).toBe(`${messy}\n# BEGIN ppp-laplink lab\nlabuser\t*\t"new"\n# END ppp-laplink lab\n`);
    expect(removeBlock(changed, 'lab')).toBe(removeBlock(once, 'lab'));
  });

  it('keeps CRLF files CRLF, also inside our block', () => {
    const hosts = fixture('hosts.crlf');
    expect(lineEnding(hosts)).toBe('\r\n');
    const merged = mergeBlock(hosts, 'lab', '192.168.7.1\tppp-laplink-server\n192.168.7.2\tppp-laplink-client');
    expect(merged).toBe(`${hosts}# BEGIN ppp-laplink lab\r\n192.168.7.1\tppp-laplink-server\r\n192.168.7.2\tppp-laplink-client\r\n# END ppp-laplink lab\r\n`);
    expect(merged.replace(/\r\n/g, '').includes('\n')).toBe(false);
    expect(removeBlock(merged, 'lab')).toBe(hosts);
  });

  it('replaces a stale block of ours in place between other content and another link\'s block', () => {
    const hosts = fixture('hosts.with-blocks');
    const merged = mergeBlock(hosts, 't', '192.168.7.1\tfresh');
    expect(merged).toBe(hosts.replace('1.2.3.4\tstale', '192.168.7.1\tfresh'));
    expect(readBlock(merged, 'other')).toBe('10.9.9.1\tother-link');
    // removing ours leaves the other link's block and the last line without newline alone
    const removed = removeBlock(merged, 't')!;
    expect(removed).toBe(hosts.replace('# BEGIN ppp-laplink t\n1.2.3.4\tstale\n# END ppp-laplink t\n', ''));
    expect(removed.endsWith('10.0.0.1\tlast-line-no-newline')).toBe(true);
  });

  it('two links keep one block each', () => {
    let text = mergeBlock(null, 'a', 'A');
    text = mergeBlock(text, 'b', 'B');
    text = mergeBlock(text, 'a', 'A2');
    expect(text).toBe('# BEGIN ppp-laplink a\nA2\n# END ppp-laplink a\n# BEGIN ppp-laplink b\nB\n# END ppp-laplink b\n');
    expect(removeBlock(text, 'a')).toBe('# BEGIN ppp-laplink b\nB\n# END ppp-laplink b\n');
  });

  it('does not confuse a link whose name is a prefix of another', () => {
    const text = mergeBlock(mergeBlock(null, 'lab-server-windows', 'W'), 'lab-server', 'S');
    expect(readBlock(text, 'lab-server')).toBe('S');
    expect(readBlock(text, 'lab-server-windows')).toBe('W');
  });

  it('keeps an END line without a newline at the end of the file as it was', () => {
    const text = 'x\n# BEGIN ppp-laplink a\nold\n# END ppp-laplink a';
    expect(mergeBlock(text, 'a', 'new')).toBe('x\n# BEGIN ppp-laplink a\nnew\n# END ppp-laplink a');
  });

  it('refuses a broken fence rather than guessing', () => {
    expect(() => mergeBlock('# BEGIN ppp-laplink a\nx\n', 'a', 'y', '/etc/hosts')).toThrow(ManagedBlockError);
    expect(() => mergeBlock('# BEGIN ppp-laplink a\nx\n', 'a', 'y', '/etc/hosts')).toThrow(/\/etc\/hosts: "# BEGIN ppp-laplink a" without its END line/);
    expect(() => removeBlock('x\n# END ppp-laplink a\n', 'a')).toThrow(/without its BEGIN line/);
  });
});
