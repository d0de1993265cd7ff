import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TIMEOUT, presetScript } from '../../src/chat/presets.js';
import { CHAT_HELP } from '../../src/chat/usage.js';

describe('chat presets and their documented defaults', () => {
  it('dcc-guest resends CLIENT every second by default, for the whole default timeout', () => {
    const script = presetScript('dcc-guest');
    expect(script).toMatch(/^TIMEOUT 1$/m);
    expect(script.split('CLIENT\\c-CLIENTSERVER').length - 1 + 1).toBe(DEFAULT_TIMEOUT);
    expect(presetScript('dcc-host')).toMatch(new RegExp(`^TIMEOUT ${DEFAULT_TIMEOUT}$`, 'm'));
  });

  it('chat --help and README give the default timeout chat(8) has, 45 s, and no other', () => {
    expect(DEFAULT_TIMEOUT).toBe(45);
    expect(CHAT_HELP).toMatch(/-t SECONDS +timeout of each expect \(default 45, as chat\(8\)\)/);
    const readme = readFileSync('README.md', 'utf8');
    const presets = readme.slice(readme.indexOf('`--preset dcc-host`'), readme.indexOf('The same scripts (templates/chat/'));
    expect(presets).toContain('sends `CLIENT` every second');
    expect(presets).toContain('default 45 s');
    expect(presets).not.toMatch(/default 60/);
  });
});
