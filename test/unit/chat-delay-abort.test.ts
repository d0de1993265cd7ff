import { Duplex } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runChat, type ChatOutput } from '../../src/chat/runner.js';
import { tokensFromArgs } from '../../src/chat/script.js';
import { sleep } from '../../src/runtime/sleep.js';

// A `\d` in a send string is chat's one-second sleep. A stop (SIGTERM to `laplink chat`) that arrives
// just before it must end the run at once with status 2, not a second later. The verbose log line
// "send (…)" is written right before the send's first action, so the abort made there reaches the
// `\d` already aborted. The clock is vitest's: 999 ms of it must be enough for the run to end.
describe('chat: a delay after the stop', () => {
  afterEach(() => vi.useRealTimers());
  it('returns at once with status 2 when the signal is already aborted', async () => {
    vi.useFakeTimers();
    const line = new Duplex({ read() {}, write: (_c, _e, done) => done() });
    const controller = new AbortController();
    const output: ChatOutput = {
      log(text) {
        if (text.startsWith('send (')) controller.abort('SIGTERM');
      },
      stderr() {},
      report() {},
    };
    let result: { exitCode: number } | undefined;
    void runChat(tokensFromArgs(['', '\\dX']), line, { verbose: true, signal: controller.signal }, output).then((r) => (result = r));
    await vi.advanceTimersByTimeAsync(999);
    expect(result?.exitCode).toBe(2);
  });
});

describe('runtime sleep', () => {
  it('resolves at once for a signal aborted before the call', async () => {
    const controller = new AbortController();
    controller.abort();
    // an hour: only an immediate return lets the test finish
    await expect(sleep(3_600_000, controller.signal)).resolves.toBeUndefined();
  });
});
