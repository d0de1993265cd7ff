/**
 * socat null-modem pty pair for tests: `const pair = await startPtyPair()` gives links `pair.a` and
 * `pair.b` (both held open), `pair.pid` (socat), and `await pair.close()` (kills that PID only, removes
 * the temp dir). One implementation shared with the benchmark harness.
 */
export { startPtyPair, PtyPairError, type PtyPair, type PtyPairOptions } from '../../bench/lib/ptypair.js';
