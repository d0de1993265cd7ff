import { describe, expect, it } from 'vitest';
import { closest, editDistance } from '../../src/yaml/closest.js';

const fields = ['name', 'role', 'peer', 'device', 'bridge', 'speed', 'flow', 'localIp', 'remoteIp', 'auth', 'login', 'password', 'passwordFile'];

describe('closest field name', () => {
  it('measures edits', () => {
    expect(editDistance('devise', 'device')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('flow', 'flow')).toBe(0);
    // two neighbouring letters swapped is one typo
    expect(editDistance('spede', 'speed')).toBe(1);
    expect(editDistance('ab', 'ba')).toBe(1);
  });

  it('finds typos, ignoring case', () => {
    expect(closest('devise', fields)).toBe('device');
    expect(closest('localip', fields)).toBe('localIp');
    expect(closest('pasword', fields)).toBe('password');
    expect(closest('passwordfile', fields)).toBe('passwordFile');
    expect(closest('spede', fields)).toBe('speed');
  });

  it('offers nothing for another word that merely shares letters', () => {
    expect(closest('plugin', fields)).toBeUndefined();
    expect(closest('xyz', fields)).toBeUndefined();
  });
});
