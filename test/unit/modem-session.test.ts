import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { answer } from '../../src/modem/session.js';

/**
 * A line whose dialer reads slowly: every write waits until the test lets it complete, and the
 * writable side needs draining after a byte, as a pty does when its peer stops reading.
 */
function slowLine() {
  const pending: Array<() => void> = [];
  const line = new Duplex({
    writableHighWaterMark: 1,
    read() {},
    write(_chunk, _enc, done) {
      pending.push(done);
    },
  });
  return { line, release: () => pending.splice(0).forEach((done) => done()) };
}

describe('modem answer over a slow line', () => {
  it('keeps one drain listener under a flood of commands (no MaxListenersExceededWarning)', async () => {
    const { line, release } = slowLine();
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    const controller = new AbortController();
    const done = answer(line, { connectSpeed: 115200, signal: controller.signal });
    try {
      // one chunk of 50 command lines: 100 writes (echo and OK) while the line needs draining
      line.push(Buffer.from('AT\r'.repeat(50)));
      await new Promise((r) => setImmediate(r));
      expect(line.listenerCount('drain')).toBe(1);
      release();
      line.push(Buffer.from('ATDT1\r'));
      for (let i = 0; i < 20 && line.listenerCount('drain') > 1; i++) await new Promise((r) => setImmediate(r));
      expect(line.listenerCount('drain')).toBeLessThanOrEqual(1);
    } finally {
      const release2 = setInterval(release, 1);
      controller.abort();
      await done.catch(() => undefined);
      clearInterval(release2);
      process.off('warning', onWarning);
    }
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });
});
