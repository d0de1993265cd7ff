/**
 * Wait `ms`, or less when `signal` aborts; never rejects. The loops that use it (backoff, reconnect,
 * polling for a process to end) check for themselves why they woke, so an abort is not an error here,
 * unlike node:timers/promises' setTimeout, which rejects with an AbortError.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
