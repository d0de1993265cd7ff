import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LogLimiter, suppressedText } from '../../src/bridge/log-limit.js';

describe('LogLimiter', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());
  const make = () => {
    const lines: string[] = [];
    const limiter = new LogLimiter<string>((l) => void lines.push(l), (n, first, many) => suppressedText(n, first, many), { perInterval: 3, intervalMs: 1000, maxKinds: 2 });
    return { lines, limiter };
  };

  it('passes N lines of a kind per interval (numbers do not make a new kind), then says how many it left out', () => {
    const { lines, limiter } = make();
    for (let i = 0; i < 100; i++) limiter.log(`unknown command ${i}`, `unknown command ${i}`);
    expect(lines).toEqual(['unknown command 0', 'unknown command 1', 'unknown command 2']);
    vi.advanceTimersByTime(1000);
    expect(lines.slice(3)).toEqual(['… 97 more like "unknown command 0" suppressed']);
    limiter.log('unknown command 5', 'unknown command 5');
    expect(lines.at(-1)).toBe('unknown command 5'); // a new interval starts afresh
  });

  it('kinds past maxKinds share one count (memory stays bounded)', () => {
    const { lines, limiter } = make();
    for (const w of ['a', 'b', 'c', 'd', 'e', 'f', 'g']) limiter.log(`kind ${w}`, `kind ${w}`);
    expect(lines).toEqual(['kind a', 'kind b', 'kind c', 'kind d', 'kind e']);
    limiter.flush();
    expect(lines.at(-1)).toBe('… 2 more messages of other kinds suppressed');
  });

  it('says nothing extra when nothing was suppressed', () => {
    const { lines, limiter } = make();
    limiter.log('x', 'x');
    limiter.flush();
    expect(lines).toEqual(['x']);
  });
});
