import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packageRoot } from '../src/paths.js';
import { LabError } from './lab-error.js';

/** What the guests boot: an ELF vmlinux (PVH entry, no xz decompression under TCG) and modules. */
export interface GuestKernel {
  /** Debian package name and version the files came from (the cache key). */
  packageName: string;
  version: string;
  dir: string;
  vmlinux: string;
  /** Module files in load order (dependencies first): busybox insmod does not resolve them. */
  modules: string[];
}

/**
 * Modules the guests need. The deb ships no modules.dep (depmod runs at install time, which we never
 * do), so dependencies come from each file's own `depends=` modinfo field.
 */
export const ROOT_MODULES = [
  'slhc', 'ppp_generic', 'ppp_async', // PPP (ppp_async = the serial line discipline)
  'ppp_deflate', // CCP deflate, the profiles' default compression (zlib is built into the kernel)
  'virtio_pci', '9pnet_virtio', '9p', // the host's / over virtfs
  'overlay', // tmpfs upper layer over the read-only host root
  'virtio_net', // scenario 5: user networking
  'ppp_mppe', // MPPE (the sha1 it asks the crypto API for is built into Debian's kernel)
  'crc32c_generic', 'nf_tables', 'nft_chain_nat', 'nft_masq', // gateway scenario: the generated inet nat table; busybox has no modprobe for autoload, and libcrc32c asks the crypto API for crc32c
  'sch_cake', 'sch_htb', 'ifb', 'sch_ingress', 'cls_matchall', 'act_mirred', // queue management (fq_codel is built in); the ip-up.d hook's CAKE, its HTB fallback and ingress shaping
];

export function labCacheDir(): string {
  return process.env.LAPLINK_LAB_CACHE ?? join(packageRoot(), '.lab-cache');
}

async function aptCandidate(): Promise<{ name: string; version: string }> {
  let deps: string;
  try {
    deps = (await execa('apt-cache', ['depends', 'linux-image-amd64'])).stdout;
  } catch (err) {
    throw new LabError(`cannot resolve the guest kernel package (apt-cache depends linux-image-amd64): ${(err as Error).message.split('\n')[0]}`);
  }
  const m = /Depends:\s*(linux-image-\S+-amd64)/.exec(deps);
  if (!m) throw new LabError('apt-cache depends linux-image-amd64 names no linux-image-*-amd64 package (run apt-get update)');
  const name = m[1]!;
  const policy = (await execa('apt-cache', ['policy', name])).stdout;
  const v = /Candidate:\s*(\S+)/.exec(policy);
  if (!v || v[1] === '(none)') throw new LabError(`no installable version of ${name} (run apt-get update)`);
  return { name, version: v[1]! };
}

async function download(name: string, into: string): Promise<string> {
  const attempt = () => execa('apt-get', ['download', name], { cwd: into, reject: false });
  let r = await attempt();
  if (r.exitCode !== 0) {
    // A fresh machine may have no package lists yet.
    await execa('apt-get', ['update'], { reject: false });
    r = await attempt();
  }
  const deb = (await readdir(into)).find((f) => f.endsWith('.deb'));
  if (r.exitCode !== 0 || !deb) {
    throw new LabError(`apt-get download ${name} failed: ${String(r.stderr).trim().split('\n').pop() ?? 'no output'}`);
  }
  return join(into, deb);
}

/** Extract the given members of the deb's data tarball into dir (one pass over the archive). */
async function extractMembers(deb: string, dir: string, members: string[]): Promise<void> {
  await execa('bash', ['-o', 'pipefail', '-c', 'f="$1"; d="$2"; shift 2; dpkg-deb --fsys-tarfile "$f" | tar -x -C "$d" "$@"', '_', deb, dir, ...members]);
}

/**
 * The ELF vmlinux inside a bzImage: the payload is an xz stream; find its magic and let xz
 * decompress from there (what the kernel's scripts/extract-vmlinux does). xz stops at the end of
 * the stream and complains about trailing data, so its exit status is not the test: the ELF
 * magic is.
 */
async function extractVmlinux(bzImage: string, out: string): Promise<void> {
  const img = await readFile(bzImage);
  const magic = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
  let at = img.indexOf(magic);
  while (at >= 0) {
    const r = await execa('xz', ['-dc'], { input: img.subarray(at), encoding: 'buffer', reject: false, maxBuffer: 512 * 1024 * 1024 });
    const elf = r.stdout as Uint8Array;
    if (elf.length > 4 && elf[0] === 0x7f && elf[1] === 0x45 && elf[2] === 0x4c && elf[3] === 0x46) {
      await writeFile(out, elf);
      return;
    }
    at = img.indexOf(magic, at + 1);
  }
  throw new LabError(`no xz-compressed ELF kernel found in ${bzImage}`);
}

/**
 * The `depends=` field of a module's .modinfo section: NUL-separated key=value strings, so a
 * byte search is exact (kmod's modinfo is not installed on every host).
 */
async function moduleDepends(ko: string): Promise<string> {
  const buf = await readFile(ko);
  const key = Buffer.from('\0depends=');
  const at = buf.indexOf(key);
  if (at < 0) return '';
  const start = at + key.length;
  return buf.subarray(start, buf.indexOf(0, start)).toString('latin1').trim();
}

/** Fetch (once per package version) and unpack the guest kernel into the cache. */
export async function ensureKernel(opts: { cacheDir?: string; log?: (line: string) => void } = {}): Promise<GuestKernel> {
  const log = opts.log ?? (() => {});
  const cache = opts.cacheDir ?? labCacheDir();
  const { name, version } = await aptCandidate();
  // The module set is part of the key: a scenario that needs a new module gets its own unpacked
  // tree beside the others' (the cache is shared), from the same downloaded .deb.
  const moduleKey = createHash('sha256').update(ROOT_MODULES.join(' ')).digest('hex').slice(0, 8);
  const base = `${name}_${version.replace(/[^A-Za-z0-9.+~-]/g, '_')}`;
  const dir = join(cache, `${base}_${moduleKey}`);
  const cachedDeb = join(cache, `${base}.deb`);
  const manifest = join(dir, 'manifest.json');
  if (existsSync(manifest)) {
    const m = JSON.parse(await readFile(manifest, 'utf8')) as { modules: string[] };
    const cached = new Set(m.modules.map((f) => f.replace(/^modules\/|\.ko$/g, '')));
    // A cache made before a module joined ROOT_MODULES lacks it: unpack again rather than boot without.
    const missing = ROOT_MODULES.filter((x) => !cached.has(x));
    if (missing.length === 0) return { packageName: name, version, dir, vmlinux: join(dir, 'vmlinux'), modules: m.modules.map((f) => join(dir, f)) };
    log(`cached kernel lacks ${missing.join(', ')}: unpacking again`);
  }
  await mkdir(cache, { recursive: true });
  // Everything is built in a scratch dir and renamed into place, so a killed run leaves no half cache.
  const work = await mkdtemp(join(cache, 'tmp-'));
  try {
    log(existsSync(cachedDeb) ? `unpacking ${name} ${version} from ${cachedDeb}` : `fetching ${name} ${version}`);
    let deb = cachedDeb;
    if (!existsSync(cachedDeb)) {
      const fetched = await download(name, work);
      await copyFile(fetched, `${cachedDeb}.${process.pid}.tmp`);
      await rename(`${cachedDeb}.${process.pid}.tmp`, cachedDeb);
      deb = fetched;
    }
    const listing = (await execa('bash', ['-o', 'pipefail', '-c', 'dpkg-deb --fsys-tarfile "$1" | tar -t', '_', deb], { maxBuffer: 64 * 1024 * 1024 })).stdout.split('\n');
    const vmlinuz = listing.find((p) => /^\.\/boot\/vmlinuz-/.test(p));
    if (!vmlinuz) throw new LabError(`${name} contains no boot/vmlinuz-*`);
    const byName = new Map<string, string>();
    for (const p of listing) {
      const m = /\/([^/]+)\.ko(\.xz|\.zst)?$/.exec(p);
      if (m && p.startsWith('./lib/modules/')) byName.set(m[1]!.replace(/-/g, '_'), p);
    }
    const unpacked = join(work, 'root');
    await mkdir(unpacked);
    await extractMembers(deb, unpacked, [vmlinuz]);
    // Resolve dependencies breadth-first, one tar pass per round.
    const deps = new Map<string, string[]>();
    let want = ROOT_MODULES.slice();
    while (want.length > 0) {
      const missing = want.filter((m) => !byName.has(m));
      if (missing.length) throw new LabError(`${name} has no module(s) ${missing.join(', ')}`);
      await extractMembers(deb, unpacked, want.map((m) => byName.get(m)!));
      const next: string[] = [];
      for (const m of want) {
        const out = await moduleDepends(join(unpacked, byName.get(m)!));
        const d = out ? out.split(',').map((s) => s.trim().replace(/-/g, '_')).filter(Boolean) : [];
        deps.set(m, d);
        for (const x of d) if (!deps.has(x) && !want.includes(x) && !next.includes(x)) next.push(x);
      }
      want = next;
    }
    const order: string[] = [];
    const visit = (m: string, stack: string[]) => {
      if (order.includes(m)) return;
      if (stack.includes(m)) throw new LabError(`module dependency cycle: ${[...stack, m].join(' -> ')}`);
      for (const d of deps.get(m) ?? []) visit(d, [...stack, m]);
      order.push(m);
    };
    for (const m of ROOT_MODULES) visit(m, []);
    const final = join(work, 'final');
    await mkdir(join(final, 'modules'), { recursive: true });
    log('extracting vmlinux (ELF, PVH entry)');
    await extractVmlinux(join(unpacked, vmlinuz), join(final, 'vmlinux'));
    const files: string[] = [];
    for (const m of order) {
      const src = byName.get(m)!;
      if (/\.(xz|zst)$/.test(src)) throw new LabError(`compressed module ${src}: busybox insmod cannot load it`);
      const rel = join('modules', `${m}.ko`);
      await copyFile(join(unpacked, src), join(final, rel));
      files.push(rel);
    }
    await writeFile(join(final, 'manifest.json'), JSON.stringify({ package: name, version, modules: files }, null, 2) + '\n');
    await rm(dir, { recursive: true, force: true });
    await rename(final, dir);
    log(`kernel cached in ${dir} (${order.join(' ')})`);
    return { packageName: name, version, dir, vmlinux: join(dir, 'vmlinux'), modules: files.map((f) => join(dir, f)) };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
