/**
 * The log limiter's defaults are part of its contract: 10 lines of a kind per interval, then one
 * summary. The hostile-load test allows far more lines than that, so only this pins the default
 * (a limiter left at 100 lines per kind passes every other test).
 */
import { expect, it } from 'vitest';
import { LogLimiter, suppressedText } from '../../src/bridge/log-limit.js';

it('by default shows 10 lines of one kind per interval, then says how many more were left out', () => {
  const out: string[] = [];
  const limiter = new LogLimiter<string>((line) => out.push(line), (count, first, many) => suppressedText(count, first, many));
  for (let i = 0; i < 150; i++) limiter.log(`unknown command ${i}`, `unknown command ${i}`);
  expect(out).toEqual(Array.from({ length: 10 }, (_, i) => `unknown command ${i}`));
  limiter.flush();
  expect(out.slice(10)).toEqual(['… 140 more like "unknown command 0" suppressed']);
  // a new interval counts afresh
  limiter.log('unknown command 999', 'unknown command 999');
  expect(out.at(-1)).toBe('unknown command 999');
  limiter.flush();
});
