/**
 * The C addon (native/pump.c, built to dist/native/pump.node by `npm run build`). Optional: without
 * a C compiler at build time it is missing, `addon` is undefined, and every caller has a JS path.
 */
import { createRequire } from 'node:module';

export interface Addon {
  init(onEnd: (handle: number) => void): void;
  start(fdA: number, fdB: number): number;
  stop(handle: number): [Buffer, Buffer, number, number, string, number, number] | undefined;
  totals(handle: number): [number, number] | undefined;
  trimMemory(): boolean;
}

/** Built next to the compiled JS (dist/native); the second path is for running the .ts sources. */
const ADDON_PATHS = ['../../native/pump.node', '../../dist/native/pump.node'];

function load(): { addon?: Addon; problem: string } {
  const require = createRequire(import.meta.url);
  let problem = '';
  for (const path of ADDON_PATHS) {
    try {
      return { addon: require(path) as Addon, problem: '' };
    } catch (err) {
      problem = (err as Error).message.split('\n')[0] ?? '';
    }
  }
  return { problem };
}

const loaded = load();
export const addon: Addon | undefined = loaded.addon;
/** Why the addon did not load (the loader's first line), or ''. */
export const addonProblem = loaded.problem;

/**
 * Returns freed malloc memory to the kernel (malloc_trim). A thread that exited, like the config
 * loader's worker, leaves its freed heap resident in its own malloc arena: 4–7 MB of a 64-port
 * bridge's RSS, measured, that a daemon would otherwise carry for its whole life.
 */
export function trimFreedMemory(): void {
  addon?.trimMemory();
}
