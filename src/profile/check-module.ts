/**
 * `laplink check`: does this kernel have a PPP module the profile needs? A module counts when it is
 * loaded, built in, or on disk for the kernel to load on demand (ppp_generic asks for
 * `ppp-compress-N` when CCP proposes a method).
 * - ppp_deflate (`compression: deflate`): pppd offers deflate only when the kernel's CCP test accepts
 *   it; without it the link still comes up, uncompressed: a warning saying what it costs.
 * - ppp_mppe (`encrypt:`): the profile requires MPPE (`require-mppe*`), so without it every call ends
 *   in CCP ("MPPE required but not available"): a failure.
 * - the qdiscs of `queue:` (sch_cake, else sch_htb with sch_fq_codel; ifb, sch_ingress, cls_matchall
 *   and act_mirred for `ingress: true`), and nf_tables for the table that keeps TCP timestamps off
 *   the link (with VJ compression): without them the link works, unmanaged: a warning.
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
  what: 'compression' | 'encryption' | 'queue';
  detail: string;
}

interface NeededModule {
  name: string;
  /** Where the module tree keeps it (default kernel/drivers/net/ppp). */
  dir?: string;
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

const PPP_DIR = 'kernel/drivers/net/ppp';

/** Files under the module tree that hold the module (any compression suffix). */
async function moduleFiles(dir: string, name: string, sub: string): Promise<string[]> {
  const inTree = await readdir(join(dir, sub)).catch(() => [] as string[]);
  return inTree.filter((f) => f.startsWith(`${name}.ko`) && /^\.ko(\.xz|\.zst|\.gz)?$/.test(f.slice(name.length)));
}

export async function checkModule(m: NeededModule, o: ModuleCheckDirs): Promise<ModuleCheck> {
  const modulesDir = o.modulesDir ?? join('/lib/modules', release());
  const loaded = (await readdir(join(o.sysDir, 'module')).catch(() => [] as string[])).includes(m.name)
    || new RegExp(`^${m.name}\\s`, 'm').test(await readFile(join(o.procDir, 'modules'), 'utf8').catch(() => ''));
  if (loaded) return { level: 'ok', what: m.what, detail: `${m.name} loaded: ${m.gives}` };
  const builtin = new RegExp(`(^|/)${m.name}\\.ko$`, 'm').test(await readFile(join(modulesDir, 'modules.builtin'), 'utf8').catch(() => ''));
  if (builtin) return { level: 'ok', what: m.what, detail: `${m.name} is built into the kernel` };
  const sub = m.dir ?? PPP_DIR;
  const files = await moduleFiles(modulesDir, m.name, sub);
  if (files.length) return { level: 'ok', what: m.what, detail: `${m.name} available (${join(modulesDir, sub, files[0]!)}), loaded on demand` };
  return { level: m.missing.level, what: m.what, detail: `no ${m.name} in this kernel (not loaded, not in ${modulesDir}): ${m.missing.detail}` };
}

const SCHED = 'kernel/net/sched';
const queueModule = (name: string, gives: string, dir = SCHED): NeededModule => ({
  name, dir, what: 'queue', gives, missing: { level: 'warn', detail: 'not available' },
});

/**
 * One line for `queue:`: which shaper the ip-up.d hook will install (its own order: CAKE, else
 * fq_codel under HTB), and whether what arrives can be shaped too.
 */
export async function checkQueueModules(plan: { rate: number; ingress: boolean; noTimestamps: boolean }, o: ModuleCheckDirs): Promise<ModuleCheck> {
  const has = async (name: string, dir = SCHED) => (await checkModule(queueModule(name, '', dir), o)).level === 'ok';
  const [cake, htb, fqCodel] = [await has('sch_cake'), await has('sch_htb'), await has('sch_fq_codel')];
  const shaper = cake ? 'CAKE' : htb && fqCodel ? 'fq_codel under HTB' : htb ? 'HTB over a 3-packet FIFO (no sch_fq_codel)' : undefined;
  const ingressMissing: string[] = [];
  if (plan.ingress) {
    for (const [name, dir] of [['ifb', 'kernel/drivers/net'], ['sch_ingress', SCHED], ['cls_matchall', SCHED], ['act_mirred', SCHED]] as const) {
      if (!(await has(name, dir))) ingressMissing.push(name);
    }
  }
  // the hook's table that keeps TCP timestamps off (VJ links): without nf_tables they stay on
  const noNfTables = plan.noTimestamps && !(await has('nf_tables', 'kernel/net/netfilter'));
  const timestamps = noNfTables
    ? '; TCP timestamps stay on through the link, so VJ compresses few headers: no nf_tables in this kernel (modprobe nf_tables)'
    : plan.noTimestamps ? ', TCP timestamps off through the link' : '';
  if (!shaper) return { level: 'warn', what: 'queue', detail: 'no sch_cake and no sch_htb in this kernel: the link runs without queue management, and a transfer delays everything else by seconds (modprobe sch_cake, or set queue: off to say so)' };
  const sending = `${shaper} shapes what leaves at ${plan.rate} bit/s${cake ? '' : ' (no sch_cake)'}`;
  if (ingressMissing.length) return { level: 'warn', what: 'queue', detail: `${sending}; what arrives is not shaped: no ${ingressMissing.join(', ')} in this kernel (modprobe them, or set queue.ingress: false)${timestamps}` };
  const level = (cake || fqCodel) && !noNfTables ? 'ok' : 'warn';
  return { level, what: 'queue', detail: `${sending}${plan.ingress ? ', and what arrives through an IFB device' : ''}${timestamps}` };
}
