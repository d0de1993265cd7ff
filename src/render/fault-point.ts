/**
 * A seam for the crash tests only: with LAPLINK_STOP_AT_STEP=N in the environment, the Nth step of
 * a journalled write stops this process (SIGSTOP) so a test can SIGKILL it exactly there. It times
 * one targeted set of kills; the many random-delay kills of the same test do not use it. Unset (as
 * always outside tests) it costs a counter increment.
 */
let step = 0;
const stopAt = Number(process.env.LAPLINK_STOP_AT_STEP ?? 0);

export function faultPoint(): void {
  step += 1;
  if (step === stopAt) process.kill(process.pid, 'SIGSTOP');
}
