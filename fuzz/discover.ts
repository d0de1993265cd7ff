import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { FuzzTarget } from './target.js';

const targetsDir = fileURLToPath(new URL('./targets', import.meta.url));

/** A target and the compiled file it came from (a worker imports only that file). */
export interface FoundTarget {
  target: FuzzTarget;
  file: string;
}

/** The target a compiled file in fuzz/targets/ exports. */
export async function importTarget(file: string): Promise<FuzzTarget> {
  const mod = (await import(pathToFileURL(file).href)) as { target?: FuzzTarget };
  if (!mod.target) throw new Error(`${file} exports no \`target\``);
  return mod.target;
}

/** Every compiled target in fuzz/targets/, by file name order: a new file needs no registration. */
export async function discoverTargets(dir = targetsDir): Promise<FoundTarget[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.js')).sort();
  const out: FoundTarget[] = [];
  for (const f of files) out.push({ target: await importTarget(join(dir, f)), file: join(dir, f) });
  return out;
}
