/**
 * A bridge daemon runs without V8's optimizing compiler (TurboFan) until code that needs it shows up.
 *
 * Raw sessions move their bytes in C (the native pump) or through a few JS calls per chunk whose
 * cost is the syscalls; everything else a bridge does (start ports, accept clients, answer the
 * control port) is one-shot control code. Yet that code runs often enough to be compiled, and the
 * compiled code, the compiler's zones and the pages of the node binary it ran from stay resident for
 * the daemon's life. Measured with 64 raw ports and a client on each: 64 MB RSS with TurboFan, 58 MB
 * without; raw throughput through the JS path is the same within the noise either way.
 *
 * Per-byte JS does need it: a telnet or RFC 2217 codec, or a hex trace, under bulk data. The 16 MiB
 * telnet bulk test takes 3 s with TurboFan and 13–16 s without. So does a TLS session, whose every
 * chunk goes through Node's stream and TLS code in JS: a TLS round trip took about 40 µs longer
 * without. The first such session or trace turns the compiler on, for good.
 */
import v8 from 'node:v8';

let deferred = false;

/** Turns TurboFan off for this process until optimizerNeeded(). */
export function deferOptimizer(): void {
  v8.setFlagsFromString('--no-opt');
  deferred = true;
}

/** Code with per-byte work is about to run: turn TurboFan (back) on. Cheap to call again. */
export function optimizerNeeded(): void {
  if (!deferred) return;
  v8.setFlagsFromString('--opt');
  deferred = false;
}

/** Whether TurboFan is off right now (deferred and not yet needed). */
export function optimizerDeferred(): boolean {
  return deferred;
}
