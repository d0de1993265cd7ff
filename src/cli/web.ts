/**
 * `laplink web`: the status page and the port consoles in a browser (src/web/server.ts), and
 * `laplink web hash-password`, which reads a password on stdin (never argv: argv is readable by
 * every user through /proc) and prints the scrypt line for --password-hash-file or `web.passwordHash`.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { parseListenAddress, parseTargetAddress, formatAddress } from '../listen/address.js';
import { DEFAULT_STATE_DIR } from '../pppd/defaults.js';
import { checkStateDir } from '../status/watch.js';
import { serviceNotifier } from '../runtime/sd-notify.js';
import { hashPassword } from '../web/password.js';
import { UserBook } from '../web/users.js';
import { usersFileSchema } from '../web/config.js';
import { loadYamlFile } from '../yaml/load.js';
import { DEFAULT_LOGIN_LIMIT, DEFAULT_MAX_SOCKETS, isLoopbackHost } from '../web/limits.js';
import { WebServer } from '../web/server.js';
import { tlsServerFrom, withTlsServerFlags } from './tls-server-flags.js';
import { checkTlsClientFiles, tlsClientFrom, withTlsClientFlags } from './tls-client-flags.js';

export const DEFAULT_WEB_LISTEN = '127.0.0.1:8470';

interface WebFlags {
  listen: string;
  stateDir: string;
  control: string[];
  passwordHashFile?: string;
  usersFile?: string;
  record?: string;
  recordMaxBytes: string;
  maxSockets: string;
  loginFailures: string;
  loginWindow: string;
  [tls: string]: unknown;
}

function flag<T>(name: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new UsageError(`${name}: ${(err as Error).message}`);
  }
}

function positive(name: string, text: string, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`${name}: "${text}" is not a whole number from 1 to ${max}`);
  return n;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of process.stdin as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > 4096) throw new UsageError('hash-password: more than 4096 bytes on stdin (allowed: one password line)');
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** The user book from --password-hash-file and --users-file (read again on SIGHUP). */
async function readUsers(opts: WebFlags): Promise<UserBook> {
  const shared = opts.passwordHashFile ? { hash: flag('--password-hash-file', () => readFileSync(opts.passwordHashFile!, 'utf8')), field: '--password-hash-file' } : undefined;
  const listed = opts.usersFile ? (await loadYamlFile(opts.usersFile, usersFileSchema)).users : [];
  return new UserBook(listed, shared, `${opts.usersFile}: users`);
}

export function register(program: Command): void {
  const web = program.command('web').description(`serve a live status page and a serial console per bridge port to browsers on http://${DEFAULT_WEB_LISTEN}/`);
  withTlsServerFlags(
    web
      .option('--listen <HOST:PORT>', 'where to serve; anything but loopback needs TLS or a password', DEFAULT_WEB_LISTEN)
      .option('--state-dir <dir>', "the supervisors' state file directory", DEFAULT_STATE_DIR)
      .option('--control <HOST:PORT>', 'a bridge control port whose ports to show and open consoles on (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
      .option('--password-hash-file <file>', 'ask browsers for the password whose hash (from `laplink web hash-password`) this file holds')
      .option('--users-file <file>', 'named users, their password hashes and who writes (YAML `users:` as in a bridge config\'s web: section); SIGHUP reads it again')
      .option('--record <dir>', "record each open console's output there as asciicast v2 files")
      .option('--record-max-bytes <n>', 'start a new recording file past this size', String(8 << 20))
      .option('--max-sockets <n>', 'open connections and WebSockets at most; more are refused', String(DEFAULT_MAX_SOCKETS))
      .option('--login-failures <n>', 'failed logins an address (an IPv6 /64) may make per --login-window before it is answered 429', String(DEFAULT_LOGIN_LIMIT.failures))
      .option('--login-window <seconds>', 'the window of --login-failures', String(DEFAULT_LOGIN_LIMIT.windowMs / 1000)),
  );
  // consoles on TLS bridge ports (--bridge-tls-*), TLS control ports (--control-tls-*): the flags of `bridge connect`
  withTlsClientFlags(web, 'bridge-tls');
  withTlsClientFlags(web, 'control-tls');
  web.action(async (opts: WebFlags) => {
    const listen = flag('--listen', () => parseListenAddress(opts.listen));
    const controlTls = tlsClientFrom(opts, 'control-tls');
    if (controlTls) await checkTlsClientFiles(controlTls, 'control-tls');
    const controls = opts.control.map((c) => ({ ...flag('--control', () => parseTargetAddress(c)), ...(controlTls ? { tls: controlTls } : {}) }));
    checkStateDir(opts.stateDir);
    const tlsSettings = tlsServerFrom(opts);
    const users = await readUsers(opts);
    if (!isLoopbackHost(listen.host) && !users.needsLogin && !(tlsSettings?.ca || tlsSettings?.allow?.length))
      throw new UsageError(`--listen: ${opts.listen} is not a loopback address: a console reachable from the network needs --password-hash-file or client certificates (--tls-ca/--tls-allow)`);
    const bridgeTls = tlsClientFrom(opts, 'bridge-tls');
    const tls = tlsSettings ? await (await import('../tls/accepter.js')).loadTlsState(tlsSettings) : undefined;
    const stop = new AbortController();
    const signals = ['SIGINT', 'SIGTERM'] as const;
    const onSignal = () => stop.abort();
    for (const s of signals) process.on(s, onSignal);
    const log = (line: string) => process.stderr.write(`${line}\n`);
    let server: WebServer | undefined;
    // SIGHUP: the password and users files read again; a file that no longer loads changes nothing
    let reloading = Promise.resolve();
    const onHangup = () =>
      void (reloading = reloading.then(async () => {
        if (!server) return;
        try {
          const r = server.reload(await readUsers(opts));
          log(`web: SIGHUP: users and passwords reloaded: ${r.kept} page${r.kept === 1 ? '' : 's'} kept, ${r.closed} closed`);
        } catch (err) {
          log(`web: SIGHUP: keeping the running users: ${(err as Error).message}`);
        }
      }));
    process.on('SIGHUP', onHangup);
    const sd = serviceNotifier(process.env, log);
    try {
      server = await WebServer.start({
        listen,
        stateDir: opts.stateDir,
        controls,
        tls,
        bridgeTls,
        users,
        maxSockets: positive('--max-sockets', opts.maxSockets, 100_000),
        loginLimit: { failures: positive('--login-failures', opts.loginFailures, 10_000), windowMs: positive('--login-window', opts.loginWindow, 86_400) * 1000 },
        record: opts.record ? { dir: opts.record, maxBytes: positive('--record-max-bytes', opts.recordMaxBytes, 1 << 30), keep: 10 } : undefined,
        signal: stop.signal,
        log,
      });
      const where = `${tls ? 'https' : 'http'}://${formatAddress(server.address)}/`;
      process.stdout.write(`web: serving ${where}\n`);
      sd.status(`serving ${where}`);
      sd.ready();
      await new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve(), { once: true }));
      sd.stopping();
    } finally {
      sd.close();
      for (const s of signals) process.off(s, onSignal);
      process.off('SIGHUP', onHangup);
    }
  });
  web
    .command('hash-password')
    .description('read a password on stdin and print its scrypt hash, for --password-hash-file')
    .action(async () => {
      process.stdout.write(`${await hashPassword(await readStdin())}\n`);
    });
}
