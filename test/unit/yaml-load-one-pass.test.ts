import { expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { parseProfile } from '../../src/profile/load.js';

// The loader lexes and parses a profile once, measuring its depth on the way, and composes from those
// tokens (src/yaml/load.ts). These pin what yaml's own parseDocument gave before: positions counted
// from line 1, a second document refused, depth refused before the composer recurses.
function problems(text: string): string[] {
  try {
    parseProfile(text, 'p.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message.split('\n');
  }
  throw new Error('loaded');
}

it('a YAML syntax error is placed at its line and column', () => {
  expect(problems('name: a\nrole: server\npeer: x: y\n')[0]).toMatch(/^p\.yaml:3:\d+: /);
  expect(problems('"open\n')[0]).toBe('p.yaml:2:1: Missing closing "quote');
});

it('a second document is refused at the place it starts', () => {
  const lines = problems('name: a\n---\nname: b\n');
  expect(lines.some((l) => /^p\.yaml:2:1: Source contains multiple documents/.test(l))).toBe(true);
});

it('nesting beyond 64 levels is refused at the place it goes too deep, however deep it goes', () => {
  expect(problems(`x: ${'['.repeat(65)}`)).toEqual(['p.yaml:1:67: nested more than 64 levels deep (allowed: at most 64)']);
  expect(problems(`${'- '.repeat(20000)}1\n`)[0]).toMatch(/^p\.yaml:1:\d+: nested more than 64 levels deep/);
});

it('an unknown field points at its own line after comments and blank lines', () => {
  expect(problems('# c\n\nname: a\nbogus: 1\n').find((l) => l.includes('bogus'))).toMatch(/^p\.yaml:4:1: bogus: unknown field/);
});
