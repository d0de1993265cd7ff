/**
 * `laplink check`: does this kernel have a PPP module the profile needs? A module counts when it is
 * loaded, built in, or on disk for the kernel to load on demand (ppp_generic asks for
 * `ppp-compress-N` when CCP proposes a method).
 * - ppp_deflate (`compression: deflate`): pppd offers deflate only when the kernel's CCP test accepts
 *   it; without it the link still comes up, uncompressed: a warning saying what it costs.
 * - ppp_mppe (`encrypt:`): the profile requires MPPE (`require-mppe*`), so without it every call ends
 *   in CCP ("MPPE required but not available"): a failure.
 */
import { readdir, readFile } from 'node:fs/promises';
import { release } from 'node:os';
import { join } from 'node:path';

export interface ModuleCheckDirs {
  /** procfs and sysfs (default /proc, /sys). */
  procDir: string;
  sysDir: string;
  /** This kernel's module tree (default /lib/modules/$(uname -r)). */
  modulesDir?: string;
}

export interface ModuleCheck {
  level: 'ok' | 'warn' | 'FAIL';
  what: 'compression' | 'encryption';
  detail: string;
}

interface NeededModule {
  name: 'ppp_deflate' | 'ppp_mppe';
  what: ModuleCheck['what'];
  /** What is negotiated when the module is there. */
  gives: string;
  /** Level and text when it is missing. */
  missing: { level: 'warn' | 'FAIL'; detail: string };
}

export const DEFLATE: NeededModule = {
  name: 'ppp_deflate',
  what: 'compression',
  gives: 'deflate is negotiated',
  missing: { level: 'warn', detail: 'the link runs uncompressed, text at the line rate instead of ~2.7x (modprobe ppp_deflate, or set compression: none to say so)' },
};

export const MPPE: NeededModule = {
  name: 'ppp_mppe',
  what: 'encryption',
  gives: 'MPPE is negotiated',
  missing: { level: 'FAIL', detail: 'encrypt: requires MPPE, so every call would end in CCP ("MPPE required but not available"): modprobe ppp_mppe, or set encrypt: none' },
};

/** Files under the module tree that hold the module (any compression suffix). */
async function moduleFiles(dir: string, name: string): Promise<string[]> {
  const inTree = await readdir(join(dir, 'kernel/drivers/net/ppp')).catch(() => [] as string[]);
  return inTree.filter((f) => f.startsWith(`${name}.ko`) && /^\.ko(\.xz|\.zst|\.gz)?$/.test(f.slice(name.length)));
}

export async function checkModule(m: NeededModule, o: ModuleCheckDirs): Promise<ModuleCheck> {
  const modulesDir = o.modulesDir ?? join('/lib/modules', release());
  const loaded = (await readdir(join(o.sysDir, 'module')).catch(() => [] as string[])).includes(m.name)
    || new RegExp(`^${m.name}\\s`, 'm').test(await readFile(join(o.procDir, 'modules'), 'utf8').catch(() => ''));
  if (loaded) return { level: 'ok', what: m.what, detail: `${m.name} loaded: ${m.gives}` };
  const builtin = new RegExp(`(^|/)${m.name}\\.ko$`, 'm').test(await readFile(join(modulesDir, 'modules.builtin'), 'utf8').catch(() => ''));
  if (builtin) return { level: 'ok', what: m.what, detail: `${m.name} is built into the kernel` };
  const files = await moduleFiles(modulesDir, m.name);
  if (files.length) return { level: 'ok', what: m.what, detail: `${m.name} available (${join(modulesDir, 'kernel/drivers/net/ppp', files[0]!)}), loaded on demand` };
  return { level: m.missing.level, what: m.what, detail: `no ${m.name} in this kernel (not loaded, not in ${modulesDir}): ${m.missing.detail}` };
}
