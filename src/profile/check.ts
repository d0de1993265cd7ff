import { constants } from 'node:fs';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { isatty } from 'node:tty';
import { basename, join } from 'node:path';
import { execa } from 'execa';
import { renderProfile, ttyOptionsPath } from '../render/render.js';
import { planGenerate, underRoot } from '../render/write.js';
import type { LoadedProfile } from './load.js';
import { lockFilePath, parseLockPid } from '../line/lock.js';
import { pidAlive as alive } from '../pid.js';
import net from 'node:net';
import { userInfo } from 'node:os';
import { socketReason } from '../socket-reason.js';
import { profileWarnings } from './warnings.js';
import { checkModule, checkQueueModules, DEFLATE, MPPE } from './check-module.js';
import { queuePlan } from './queue.js';

export type CheckLevel = 'ok' | 'warn' | 'FAIL';

export interface CheckResult {
  level: CheckLevel;
  what: string;
  detail: string;
}

export interface CheckOptions {
  /** Where the generated files live (as for generate --root). */
  root?: string;
  /** UUCP lock directory (default /var/lock). */
  lockDir?: string;
  /** Device directory holding `ppp` (default /dev). */
  devDir?: string;
  /** procfs (default /proc) and sysfs (default /sys), for kernel PPP support. */
  procDir?: string;
  sysDir?: string;
  /** This kernel's module tree (default /lib/modules/$(uname -r)), for ppp_deflate and ppp_mppe. */
  modulesDir?: string;
  /** pppd and chat binaries (default /usr/sbin/pppd, /usr/sbin/chat). */
  pppd?: string;
  chat?: string;
  laplinkArgv?: string[];
}

const errCode = (err: unknown) => (err as NodeJS.ErrnoException).code ?? String(err);

async function checkDevice(device: string): Promise<CheckResult> {
  // O_NONBLOCK: a serial port with modem lines would otherwise block until carrier.
  let fd;
  try {
    fd = await open(device, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
  } catch (err) {
    const hint = errCode(err) === 'EACCES' ? ': only root or group dialout may open it' : '';
    return { level: 'FAIL', what: 'device', detail: `${device}: cannot open (${errCode(err)})${hint}` };
  }
  try {
    return isatty(fd.fd)
      ? { level: 'ok', what: 'device', detail: `${device} is a tty` }
      : { level: 'FAIL', what: 'device', detail: `${device} is not a tty` };
  } finally {
    await fd.close();
  }
}

async function checkSecrets(paths: string[]): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const p of paths) {
    try {
      const st = await stat(p);
      const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
      out.push(st.mode & 0o077
        ? { level: 'FAIL', what: 'permissions', detail: `${p} is mode ${mode}: others can read the secrets (want 0600)` }
        : { level: 'ok', what: 'permissions', detail: `${p} is mode ${mode}` });
    } catch (err) {
      out.push({ level: 'warn', what: 'permissions', detail: `${p}: ${errCode(err)} (run laplink generate)` });
    }
  }
  return out;
}

async function checkKernel(o: Required<Pick<CheckOptions, 'devDir' | 'procDir' | 'sysDir'>>): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const devPpp = join(o.devDir, 'ppp');
  try {
    const st = await stat(devPpp);
    out.push(st.isCharacterDevice() ? { level: 'ok', what: '/dev/ppp', detail: `${devPpp} is a character device` } : { level: 'FAIL', what: '/dev/ppp', detail: `${devPpp} is not a character device` });
  } catch (err) {
    out.push({ level: 'FAIL', what: '/dev/ppp', detail: `${devPpp}: ${errCode(err)} (pppd exits 4 without it; mknod ${devPpp} c 108 0 once the kernel has PPP)` });
  }
  const devices = await readFile(join(o.procDir, 'devices'), 'utf8').catch(() => '');
  out.push(/^\s*108 ppp$/m.test(devices)
    ? { level: 'ok', what: 'kernel PPP', detail: '/proc/devices lists 108 ppp' }
    : { level: 'FAIL', what: 'kernel PPP', detail: 'no "108 ppp" in /proc/devices: this kernel has no PPP support loaded' });
  const modules = await readdir(join(o.sysDir, 'module')).catch(() => [] as string[]);
  for (const m of ['ppp_generic', 'ppp_async']) {
    out.push(modules.includes(m)
      ? { level: 'ok', what: 'kernel module', detail: `${m} present` }
      : { level: 'warn', what: 'kernel module', detail: `${m} not loaded (modprobe ${m})` });
  }
  return out;
}

async function checkTools(pppd: string, chat: string): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const v = await execa(pppd, ['--version'], { reject: false, timeout: 10_000 });
  const m = /pppd version (\S+)/.exec(`${v.stdout}\n${v.stderr}`);
  // Debian installs pppd setuid root, mode 4754 root:dip: anyone else may not even run it.
  if (!m && v.code === 'EACCES') out.push({ level: 'FAIL', what: 'pppd', detail: `${pppd} is only usable by root or group dip (run laplink as root, or adduser ${userName()} dip)` });
  else out.push(m ? { level: 'ok', what: 'pppd', detail: `${pppd} version ${m[1]}` } : { level: 'FAIL', what: 'pppd', detail: `${pppd} not usable (${v.failed ? (v.code ?? `exit ${v.exitCode}`) : 'no version'}); apt-get install ppp` });
  // chat(8) has no version flag; it ships with pppd, so its presence is what matters.
  try {
    const st = await stat(chat);
    out.push(st.mode & 0o111 ? { level: 'ok', what: 'chat', detail: `${chat} present${m ? ` (ppp ${m[1]})` : ''}` } : { level: 'FAIL', what: 'chat', detail: `${chat} is not executable` });
  } catch (err) {
    out.push({ level: 'FAIL', what: 'chat', detail: `${chat}: ${errCode(err)}; apt-get install ppp` });
  }
  return out;
}

async function checkLock(device: string, lockDir: string): Promise<CheckResult> {
  const lock = lockFilePath(lockDir, device);
  let buf: Buffer;
  try {
    buf = await readFile(lock);
  } catch (err) {
    if (errCode(err) === 'ENOENT') return { level: 'ok', what: 'lock', detail: `no lock on ${basename(device)} in ${lockDir}` };
    return { level: 'warn', what: 'lock', detail: `${lock}: ${errCode(err)}` };
  }
  const pid = parseLockPid(buf);
  if (pid === undefined) return { level: 'warn', what: 'lock', detail: `${lock} is unreadable; remove it if no program uses ${device}` };
  return alive(pid)
    ? { level: 'warn', what: 'lock', detail: `${device} is in use by pid ${pid} (${lock})` }
    : { level: 'warn', what: 'lock', detail: `stale lock ${lock} of dead pid ${pid}; pppd removes it, or rm it` };
}

/** Option lines of a block body, comments dropped. */
const optionLines = (body: string) => body.split(/\r?\n/).map((l) => l.replace(/#.*$/, '').trim()).filter(Boolean);

/**
 * pppd reads /etc/ppp/options.TTY after the peers file, for every link on that tty, so the last
 * block wins. Links sharing a tty must agree on its line settings.
 */
async function checkTtyNeighbours(device: string, name: string, root: string | undefined, ours: string): Promise<CheckResult> {
  const path = underRoot(root, ttyOptionsPath(device));
  const text = await readFile(path, 'utf8').catch(() => null);
  if (text === null) return { level: 'ok', what: 'tty options', detail: `${path} not written yet` };
  const others: string[] = [];
  const re = /^# BEGIN ppp-laplink (\S+)\r?\n([\s\S]*?)^# END ppp-laplink \1\r?$/gm;
  for (const m of text.matchAll(re)) {
    if (m[1] !== name && optionLines(m[2]!).join(' ') !== optionLines(ours).join(' ')) others.push(m[1]!);
  }
  return others.length
    ? { level: 'warn', what: 'tty options', detail: `${path} also holds different line settings of ${others.join(', ')}; pppd applies all blocks, the last one wins` }
    : { level: 'ok', what: 'tty options', detail: `${path} agrees with every link on ${device}` };
}

function userName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'USER';
  }
}

/** A bridge: line: can pppd's `laplink bridge stdio` reach the TCP address? */
export async function checkBridge(target: string, timeoutMs = 3000): Promise<CheckResult> {
  const colon = target.lastIndexOf(':');
  const host = target.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const port = Number(target.slice(colon + 1));
  const reason = await new Promise<string | undefined>((resolve) => {
    const socket = net.connect({ host, port });
    const done = (why: string | undefined) => {
      socket.destroy();
      resolve(why);
    };
    socket.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs / 1000} s`));
    socket.once('connect', () => done(undefined));
    socket.once('error', (err) => done(socketReason(err)));
  });
  return reason === undefined
    ? { level: 'ok', what: 'bridge', detail: `${target} accepts TCP connections` }
    : { level: 'warn', what: 'bridge', detail: `${target}: ${reason} (is laplink bridge serve running there?)` };
}

/** Every check for one link; never throws for a failed check (that is a result line). */
export async function checkLink(loaded: LoadedProfile, o: CheckOptions = {}): Promise<CheckResult[]> {
  const p = loaded.profile;
  const out: CheckResult[] = [{ level: 'ok', what: 'profile', detail: `${loaded.path} is valid (${p.role} ${p.name})` }];
  for (const w of profileWarnings(p)) out.push({ level: 'warn', what: 'profile', detail: `${w.field} ${w.message}` });
  // Opening a serial port can drop DTR on close and hang up a running link: leave a locked one alone.
  const lock = p.device ? await checkLock(p.device, o.lockDir ?? '/var/lock') : undefined;
  if (p.device && lock?.detail.includes(' is in use by pid ')) out.push({ level: 'ok', what: 'device', detail: `${p.device} is in use (locked), not opened` });
  else if (p.device) out.push(await checkDevice(p.device));
  else out.push({ level: 'ok', what: 'device', detail: `line carried over TCP from ${p.bridge}` }, await checkBridge(p.bridge!));
  const files = renderProfile(p, { profilePath: loaded.path, laplinkArgv: o.laplinkArgv });
  out.push(...(await checkSecrets(files.filter((f) => f.secret).map((f) => underRoot(o.root, f.path)))));
  out.push(...(await checkKernel({ devDir: o.devDir ?? '/dev', procDir: o.procDir ?? '/proc', sysDir: o.sysDir ?? '/sys' })));
  const kernelDirs = { procDir: o.procDir ?? '/proc', sysDir: o.sysDir ?? '/sys', modulesDir: o.modulesDir };
  if (p.compression === 'deflate') out.push(await checkModule(DEFLATE, kernelDirs));
  if (p.encrypt !== 'none') out.push(await checkModule(MPPE, kernelDirs));
  const queue = queuePlan(p);
  if (queue) out.push(await checkQueueModules(queue, kernelDirs));
  out.push(...(await checkTools(o.pppd ?? '/usr/sbin/pppd', o.chat ?? '/usr/sbin/chat')));
  if (lock) out.push(lock);
  const tty = files.find((f) => p.device && f.path === ttyOptionsPath(p.device));
  if (p.device && tty) out.push(await checkTtyNeighbours(p.device, p.name, o.root, tty.content));
  try {
    const changes = await planGenerate(files, p.name, o.root);
    const stale = changes.filter((c) => c.action !== 'unchanged');
    out.push(stale.length === 0
      ? { level: 'ok', what: 'generated files', detail: `${changes.length} files up to date` }
      : { level: 'warn', what: 'generated files', detail: `${stale.map((c) => `${c.fsPath} ${c.action === 'created' ? 'missing' : 'out of date'}`).join(', ')} (run laplink generate)` });
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    out.push({ level: 'FAIL', what: 'generated files', detail: /EACCES/.test(text) ? `${text} (only root may read it; run check as root)` : text });
  }
  return out;
}
