import { spawn, type ChildProcess } from 'node:child_process';

/**
 * CPU-bound processes beside a test, as a busy CI runner or laptop has: `count` node children that
 * spin until stopped, each bounded (`maxMs`) so a test killed before its cleanup leaves nothing
 * spinning for long. Node itself, so no package is needed.
 */
export function cpuLoad(count = 2, maxMs = 120_000): { stop(): Promise<void> } {
  const spin = `const end = Date.now() + ${maxMs}; let x = 0; while (Date.now() < end) x++;`;
  const children: ChildProcess[] = Array.from({ length: count }, () => spawn(process.execPath, ['-e', spin], { stdio: 'ignore' }));
  return {
    async stop() {
      await Promise.all(
        children.map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null || c.signalCode !== null) return resolve();
              c.once('exit', () => resolve());
              c.kill('SIGKILL');
            }),
        ),
      );
    },
  };
}
