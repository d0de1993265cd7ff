import { constants } from 'node:fs';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { isatty } from 'node:tty';
import { basename, join } from 'node:path';
import { execa } from 'execa';
import { peersPath, renderProfile, ttyOptionsPath, type RenderedFile } from '../render/render.js';
import { GENERATED_FILE_MAX_BYTES, planGenerate, underRoot } from '../render/write.js';
import type { LoadedProfile } from './load.js';
import type { Profile } from './schema.js';
import { passwordFileProblem } from './password-file.js';
import { LOCK_FILE_MAX_BYTES, lockFilePath, parseLockPid } from '../line/uucp-lock.js';
import { readBack, ReadBackError } from '../runtime/read-back.js';
import { pidAlive as alive } from '../pid.js';
import net from 'node:net';
import { userInfo } from 'node:os';
import { errnoText, socketReason } from '../socket-reason.js';
import { profileWarnings } from './warnings.js';
import { checkModule, checkQueueModules, DEFLATE, MPPE } from './check-module.js';
import { queuePlan } from './queue.js';
import { foreignLockKind, foreignLockText } from '../render/generate-lock.js';
import { LOCK_PATH } from '../render/generate.js';

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

const errCode = (err: unknown) => (err as NodeJS.ErrnoException).code;

/** A user's (/etc/passwd) or group's (/etc/group) name, or its number. */
async function idName(file: '/etc/passwd' | '/etc/group', id: number): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').map((l) => l.split(':')).find((f) => f[2] === String(id))?.[0] ?? String(id);
}

/**
 * Why this user may not open the device, from its mode and owner: group dialout helps only when
 * the group may read and write it; an owner-only device (0600) is for its owner alone.
 */
export function deviceAccessReason(mode: number, owner: string, group: string, user: string): string {
  const perms = (mode & 0o777).toString(8).padStart(4, '0');
  if ((mode & 0o060) === 0o060) return `mode ${perms} ${owner}:${group}: only ${owner} or group ${group} may open it (adduser ${user} ${group}, then log in again)`;
  if ((mode & 0o006) === 0o006) return `mode ${perms} ${owner}:${group}`;
  return `mode ${perms} ${owner}:${group}: only ${owner} may open it (run laplink as ${owner}, or give the device a group, e.g. a udev rule with GROUP="dialout", MODE="0660")`;
}

async function checkDevice(device: string): Promise<CheckResult> {
  // O_NONBLOCK: a serial port with modem lines would otherwise block until carrier.
  let fd;
  try {
    fd = await open(device, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
  } catch (err) {
    let hint = '';
    if (errCode(err) === 'EACCES') {
      const st = await stat(device).catch(() => undefined);
      if (st) hint = `: ${deviceAccessReason(st.mode, await idName('/etc/passwd', st.uid), await idName('/etc/group', st.gid), userName())}`;
    }
    return { level: 'FAIL', what: 'device', detail: `${device}: cannot open (${errnoText(err)})${hint}` };
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
      out.push({ level: 'warn', what: 'permissions', detail: `${p}: ${errnoText(err)} (run laplink generate)` });
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
    out.push({ level: 'FAIL', what: '/dev/ppp', detail: `${devPpp}: ${errnoText(err)} (pppd exits 4 without it; mknod ${devPpp} c 108 0 once the kernel has PPP)` });
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
  else out.push(m ? { level: 'ok', what: 'pppd', detail: `${pppd} version ${m[1]}` } : { level: 'FAIL', what: 'pppd', detail: `${pppd} not usable (${v.failed ? (v.code ? errnoText({ code: v.code }) : `exit ${v.exitCode}`) : 'no version'}); apt-get install ppp` });
  // chat(8) has no version flag; it ships with pppd, so its presence is what matters.
  try {
    const st = await stat(chat);
    out.push(st.mode & 0o111 ? { level: 'ok', what: 'chat', detail: `${chat} present${m ? ` (ppp ${m[1]})` : ''}` } : { level: 'FAIL', what: 'chat', detail: `${chat} is not executable` });
  } catch (err) {
    out.push({ level: 'FAIL', what: 'chat', detail: `${chat}: ${errnoText(err)}; apt-get install ppp` });
  }
  return out;
}

async function checkLock(device: string, lockDir: string): Promise<CheckResult> {
  const lock = lockFilePath(lockDir, device);
  let pid: number | undefined;
  try {
    // the reader refuses a FIFO, a device or an oversized file by type before reading it
    const got = await readBack(lock, { maxBytes: LOCK_FILE_MAX_BYTES });
    if (!got) return { level: 'ok', what: 'lock', detail: `no lock on ${basename(device)} in ${lockDir}` };
    pid = parseLockPid(got.bytes);
  } catch (err) {
    if (err instanceof ReadBackError) return { level: 'warn', what: 'lock', detail: `${err.message}; remove it if no program uses ${device}` };
    return { level: 'warn', what: 'lock', detail: `${lock}: ${errnoText(err)}` };
  }
  if (pid === undefined) return { level: 'warn', what: 'lock', detail: `${lock} is unreadable; remove it if no program uses ${device}` };
  return alive(pid)
    ? { level: 'warn', what: 'lock', detail: `${device} is in use by pid ${pid} (${lock})` }
    : { level: 'warn', what: 'lock', detail: `stale lock ${lock} of dead pid ${pid}; pppd removes it, or rm it` };
}

/** Option lines of a block body, comments dropped. */
const optionLines = (body: string) => body.split(/\r?\n/).map((l) => l.replace(/#.*$/, '').trim()).filter(Boolean);

/** Every link's managed block in a shared file (pap-secrets, options.TTY): its name and body. */
function managedBlocks(text: string): Array<{ name: string; body: string }> {
  const re = /^# BEGIN ppp-laplink (\S+)\r?\n([\s\S]*?)^# END ppp-laplink \1\r?$/gm;
  return [...text.matchAll(re)].map((m) => ({ name: m[1]!, body: m[2]! }));
}

/** A file generate wrote, read back (a FIFO in its place would hold check): null when missing, a
 *  ReadBackError naming it when it is not a regular file or too large. */
async function generatedText(path: string): Promise<string | null> {
  return (await readBack(path, { maxBytes: GENERATED_FILE_MAX_BYTES, followSymlinks: true }))?.bytes.toString('utf8') ?? null;
}

/** generatedText for a check about `what`: the text, or the warning that says why it could not be read. */
async function generatedTextFor(path: string, what: CheckResult['what']): Promise<{ text: string | null } | { warning: CheckResult }> {
  try {
    return { text: await generatedText(path) };
  } catch (err) {
    return { warning: { level: 'warn', what, detail: err instanceof ReadBackError ? err.message : `${path}: ${errnoText(err)}` } };
  }
}

/** The role a generated peers file names on its second line (`… (server, peer …)`), if it is ours. */
async function roleOf(root: string | undefined, name: string): Promise<string | undefined> {
  const text = (await generatedText(underRoot(root, peersPath(name))).catch(() => null)) ?? '';
  return /^# pppd options for `pppd call \S+` \((server|client), /m.exec(text)?.[1];
}

/**
 * pppd reads /etc/ppp/options.TTY after the peers file, for every link on that tty, so the last
 * block wins. Links sharing a tty must agree on its line settings, and one end of a cable cannot
 * be both the server and the client.
 */
async function checkTtyNeighbours(p: Profile, root: string | undefined, ours: string): Promise<CheckResult[]> {
  const device = p.device!;
  const path = underRoot(root, ttyOptionsPath(device));
  const read = await generatedTextFor(path, 'tty options');
  if ('warning' in read) return [read.warning];
  const text = read.text;
  if (text === null) return [{ level: 'ok', what: 'tty options', detail: `${path} not written yet` }];
  const neighbours = managedBlocks(text).filter((b) => b.name !== p.name);
  const out: CheckResult[] = [];
  for (const b of neighbours) {
    const role = await roleOf(root, b.name);
    if (role !== undefined && role !== p.role) {
      out.push({ level: 'FAIL', what: 'tty', detail: `${p.role} link ${p.name} and ${role} link ${b.name} both use ${device}: one end of a cable is either the server or the client; give each its own tty, or remove one (laplink remove)` });
    }
  }
  const differing = neighbours.filter((b) => optionLines(b.body).join(' ') !== optionLines(ours).join(' ')).map((b) => b.name);
  out.push(differing.length
    ? { level: 'warn', what: 'tty options', detail: `${path} also holds different line settings of ${differing.join(', ')}; pppd applies all blocks, the last one wins` }
    : { level: 'ok', what: 'tty options', detail: `${path} agrees with every link on ${device}` });
  return out;
}

/** The words of a pppd secrets line (getword(): whitespace separates, "…" quotes, \\ escapes). */
function secretsWords(line: string): string[] {
  const words: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (const m of line.replace(/^\s*#.*$/, '').matchAll(re)) words.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? m[3]!));
  return words;
}

/**
 * pppd takes the first secrets line whose client and server match: when two links list the same
 * user name with different addresses (or secrets), one of them gets the other's, and its IPCP
 * fails or its login is refused. Only other links' blocks are compared; secrets are never shown.
 */
async function checkSharedUsers(p: Profile, files: RenderedFile[], root: string | undefined): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const f of files.filter((x) => x.secret && x.kind === 'block')) {
    const path = underRoot(root, f.path);
    const read = await generatedTextFor(path, 'secrets');
    if ('warning' in read) {
      out.push(read.warning);
      continue;
    }
    const text = read.text;
    if (text === null) continue;
    const entries = (body: string) => body.split(/\r?\n/).map(secretsWords).filter((w) => w.length >= 3);
    const mine = entries(f.content);
    for (const b of managedBlocks(text).filter((x) => x.name !== p.name)) {
      for (const theirs of entries(b.body)) {
        const same = mine.find((m) => m[0] === theirs[0] && m[1] === theirs[1]);
        if (!same) continue;
        const why = same.slice(3).join(' ') !== theirs.slice(3).join(' ')
          ? `addresses ${same.slice(3).join(' ') || 'any'} here, ${theirs.slice(3).join(' ') || 'any'} there`
          : same[2] !== theirs[2] ? 'different secrets' : undefined;
        if (why) out.push({ level: 'FAIL', what: 'secrets', detail: `${path}: links ${p.name} and ${b.name} both list user ${theirs[0]} (${why}); pppd uses the first line only, so give each link its own user name` });
      }
    }
  }
  return out;
}

/**
 * pppd reads `@FILE` secrets when the link starts: a file that is not there gives an empty
 * secret and a refused login, long after generate said all was well.
 */
export async function checkPasswordFile(p: Profile, root: string | undefined): Promise<CheckResult | undefined> {
  const file = p.auth.passwordFile;
  if (file === undefined) return undefined;
  const problem = await passwordFileProblem(file, root);
  return problem
    ? { level: 'FAIL', what: 'auth.passwordFile', detail: problem }
    : { level: 'ok', what: 'auth.passwordFile', detail: `${file} is there` };
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

/**
 * The kernel's error counters of the device (since boot): framing or parity errors say the ends
 * differ in speed or framing or the cable is bad; overruns say the reader is too slow. Read only
 * when the device is a tty that exists; nothing is said of a missing one (the device check does).
 */
async function checkLineCounters(device: string): Promise<CheckResult | undefined> {
  const { readTtyCounters, lineTroubles } = await import('../line/serial-counters.js');
  const { describeLine } = await import('../status/line-health.js');
  let reading;
  try {
    reading = readTtyCounters(device);
  } catch {
    return undefined;
  }
  if (!reading.counters) return { level: 'ok', what: 'line', detail: `${device}: no error counters (${reading.noCounters ?? 'none kept'})` };
  const troubles = lineTroubles(reading.counters);
  const detail = describeLine({ device, speed: reading.speed, counters: reading.counters });
  return troubles.length ? { level: 'warn', what: 'line', detail: `${detail}; ${troubles.map((t) => t.cause).join('; ')}` } : { level: 'ok', what: 'line', detail };
}

/** The client certificate, key and CA a `bridge:` line's TLS names (a pin alone needs no file). */
async function checkBridgeTls(t: NonNullable<Profile['bridgeTls']>): Promise<CheckResult[]> {
  if (!t.cert && !t.ca) return [];
  const { tlsFileFindings } = await import('../tls/files.js');
  return (await tlsFileFindings({ cert: t.cert, key: t.key, ca: t.ca })).map((f) => ({ level: f.level, what: 'bridge TLS', detail: f.detail }));
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
  if (p.device && tty) out.push(...(await checkTtyNeighbours(p, o.root, tty.content)));
  out.push(...(await checkSharedUsers(p, files, o.root)));
  if (p.device) {
    const line = await checkLineCounters(p.device);
    if (line) out.push(line);
  }
  if (p.bridgeTls) out.push(...(await checkBridgeTls(p.bridgeTls)));
  const generateLock = underRoot(o.root, LOCK_PATH);
  const foreign = await foreignLockKind(generateLock);
  if (foreign) out.push({ level: 'FAIL', what: 'generate lock', detail: `${generateLock}: ${foreignLockText(foreign)} (generate refuses to run until then)` });
  const passwordFile = await checkPasswordFile(p, o.root);
  if (passwordFile) out.push(passwordFile);
  try {
    const changes = await planGenerate(files, p.name, o.root);
    const stale = changes.filter((c) => c.action !== 'unchanged');
    out.push(stale.length === 0
      ? { level: 'ok', what: 'generated files', detail: `${changes.length} files up to date` }
      : { level: 'warn', what: 'generated files', detail: `${stale.map((c) => `${c.fsPath} ${c.action === 'created' ? 'missing' : 'out of date'}`).join(', ')} (run laplink generate)` });
  } catch (err) {
    // check only reads: say what could not be read, without generate's "nothing was changed"
    const cause = err instanceof Error ? (err.cause as NodeJS.ErrnoException | undefined) : undefined;
    const text = cause instanceof ReadBackError ? `cannot read ${cause.message}` : cause?.path ? `cannot read ${cause.path}: ${errnoText(cause)}` : err instanceof Error ? err.message : String(err);
    out.push({ level: 'FAIL', what: 'generated files', detail: cause?.code === 'EACCES' ? `${text} (only root may read it; run check as root)` : text });
  }
  return out;
}
