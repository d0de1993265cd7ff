/**
 * `laplink check`: can this kernel compress with deflate? pppd offers deflate only when the kernel's
 * CCP test accepts it, which needs ppp_deflate (loaded, built in, or a module the kernel can load on
 * demand as ppp-compress-26). Without it the link still comes up, uncompressed: a warning, not a
 * failure, saying what it costs.
 */
import { readdir, readFile } from 'node:fs/promises';
import { release } from 'node:os';
import { join } from 'node:path';

export interface DeflateCheckDirs {
  /** procfs and sysfs (default /proc, /sys). */
  procDir: string;
  sysDir: string;
  /** This kernel's module tree (default /lib/modules/$(uname -r)). */
  modulesDir?: string;
}

export interface DeflateCheck {
  level: 'ok' | 'warn';
  what: 'compression';
  detail: string;
}

const MODULE = 'ppp_deflate';

/** Paths under the module tree that hold ppp_deflate (any compression suffix). */
async function moduleFiles(dir: string): Promise<string[]> {
  const inTree = await readdir(join(dir, 'kernel/drivers/net/ppp')).catch(() => [] as string[]);
  return inTree.filter((f) => /^ppp_deflate\.ko(\.xz|\.zst|\.gz)?$/.test(f));
}

export async function checkDeflate(o: DeflateCheckDirs): Promise<DeflateCheck> {
  const modulesDir = o.modulesDir ?? join('/lib/modules', release());
  const loaded = (await readdir(join(o.sysDir, 'module')).catch(() => [] as string[])).includes(MODULE)
    || /^ppp_deflate\s/m.test(await readFile(join(o.procDir, 'modules'), 'utf8').catch(() => ''));
  if (loaded) return { level: 'ok', what: 'compression', detail: `${MODULE} loaded: deflate is negotiated` };
  const builtin = /(^|\/)ppp_deflate\.ko$/m.test(await readFile(join(modulesDir, 'modules.builtin'), 'utf8').catch(() => ''));
  if (builtin) return { level: 'ok', what: 'compression', detail: `${MODULE} is built into the kernel` };
  const files = await moduleFiles(modulesDir);
  if (files.length) return { level: 'ok', what: 'compression', detail: `${MODULE} available (${join(modulesDir, 'kernel/drivers/net/ppp', files[0]!)}), loaded on demand` };
  return {
    level: 'warn',
    what: 'compression',
    detail: `no ${MODULE} in this kernel (not loaded, not in ${modulesDir}): the link runs uncompressed, text at the line rate instead of ~2.7x (modprobe ${MODULE}, or set compression: none to say so)`,
  };
}
