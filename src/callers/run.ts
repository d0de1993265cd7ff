/**
 * `laplink serve` of a `listen:` profile: the dial-in server as the link's supervisor. It writes the
 * link's state file (a `callers` array under the link), tells systemd it is ready once listening,
 * takes a changed profile on SIGHUP for the callers that come after, and on SIGTERM ends every
 * caller's pppd before it exits.
 */
import { EventEmitter } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { AllowList } from '../bridge/allow.js';
import { parseListenAddress } from '../listen/address.js';
import { pppdArgs } from '../pppd/args.js';
import { loadTlsState } from '../tls/accepter.js';
import type { Profile } from '../pppd/profile.js';
import { loadLinkProfile, regenerateLink } from '../pppd/profile.js';
import { notifySystemd } from '../pppd/sd-link.js';
import { removeStateFile, writeStateFile, type LinkStatus } from '../pppd/state.js';
import { CallerGate } from './gate.js';
import { AddressPool, parsePool } from './pool.js';
import { isAddressRange } from './schema.js';
import { CallerServer, type CallerServerSettings } from './server.js';

export interface RunCallersFlags {
  root?: string;
  stateDir: string;
  runDir: string;
  debug?: boolean;
  generate: boolean;
  grace: number;
}

/** Settings for new callers from a profile (its `callers:` block, defaults otherwise). */
export function callerSettings(p: Profile, flags: RunCallersFlags, pppd: string): CallerServerSettings {
  const c = p.callers ?? { max: 8, protocol: 'modem' as const, telnet: false, idleTimeout: 60, handshakeBytes: 4096, perAddress: 2, burst: 5, refillSeconds: 10 };
  const pool = new AddressPool(parsePool(isAddressRange(p.remoteIp) ? p.remoteIp : `${p.remoteIp}-${p.remoteIp}`, 'remoteIp'));
  const localId = p.ipv6?.localId;
  return {
    name: p.name,
    protocol: c.protocol,
    transport: c.telnet ? 'telnet' : 'raw',
    idleMs: c.idleTimeout * 1000,
    handshakeBytes: c.handshakeBytes,
    connectSpeed: p.modem?.connectSpeed ?? p.speed,
    pppd,
    pppdArgs: (device, lease) => [
      ...pppdArgs({ name: p.name, root: flags.root, device, debug: flags.debug }),
      `:${lease.ipv4}`,
      // Each caller's own pid file (ppp-NAME-cN.pid): the peers file's linkname is shared.
      'linkname',
      `${p.name}-c${lease.offset}`,
      ...(p.ipv6 && c.ipv6FirstId !== undefined ? ['ipv6', `${localId ?? ''},::${(c.ipv6FirstId + lease.offset).toString(16)}`] : []),
    ],
    graceMs: flags.grace,
    runDir: flags.runDir,
    max: c.max,
    pool,
    gate: new CallerGate({ ...(c.allow ? { allow: new AllowList(c.allow) } : {}), perAddress: c.perAddress, burst: c.burst, refillMs: c.refillSeconds * 1000 }),
    ...(p.ipv6 && c.ipv6FirstId !== undefined ? { ipv6FirstId: c.ipv6FirstId } : {}),
  };
}

export async function runCallers(profilePath: string, profile: Profile, flags: RunCallersFlags, pppd: string): Promise<number> {
  const name = profile.name;
  const write = (s: string) => process.stderr.write(`${s}\n`);
  const states = new EventEmitter<{ state: [LinkStatus] }>();
  const sd = notifySystemd(states, (line) => write(`${name}: ${line}`));
  const listen = parseListenAddress(profile.listen!);
  let server: CallerServer | undefined;
  let writing = Promise.resolve();
  let again = false;
  const since = new Date().toISOString();
  const status = (): LinkStatus & { callers: ReturnType<CallerServer['callers']> } => {
    const callers = server?.callers() ?? [];
    return { name, state: callers.length > 0 ? 'up' : 'waiting-for-device', since, supervisorPid: process.pid, device: `listen ${profile.listen}`, restarts: 0, callers };
  };
  // One write at a time, the last change always written: callers may come and go faster than fsync.
  const publish = (): void => {
    if (again) return;
    again = true;
    writing = writing.then(async () => {
      again = false;
      const s = status();
      states.emit('state', s);
      await writeStateFile(flags.stateDir, s).catch((err: Error) => write(`${name}: cannot write the state file: ${err.message}`));
    });
  };
  await mkdir(flags.runDir, { recursive: true, mode: 0o755 });
  // The TLS files are read once, at start: a reload keeps the listener and its certificate.
  const tls = profile.callers?.tls ? await loadTlsState(profile.callers.tls) : undefined;
  server = await CallerServer.open({ name, address: listen, ...(tls ? { tls } : {}), settings: callerSettings(profile, flags, pppd), log: write, onChange: publish });
  write(`${name}: listening on ${listen.host}:${server.address.port} for callers`);
  publish();
  const refresh = setInterval(publish, 5000); // bytes counters for status --watch

  const onHup = (): void => {
    void (async () => {
      try {
        const r = flags.generate ? await regenerateLink(profilePath, flags.root, write) : await loadLinkProfile(profilePath);
        if (r.profile.name !== name || r.profile.listen !== profile.listen) throw new Error('the link name or listen address changed; restart the server for that');
        server!.reconfigure(callerSettings(r.profile, flags, pppd));
        write(`${name}: reloaded: new callers get the new settings`);
      } catch (err) {
        write(`${name}: reload refused, callers keep the running settings: ${(err as Error).message}`);
      }
    })();
  };
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  const onTerm = (): void => {
    sd.stopping();
    stop();
  };
  process.on('SIGHUP', onHup);
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onTerm);
  try {
    await stopped;
    await server.close();
    return 0;
  } finally {
    clearInterval(refresh);
    await writing;
    await removeStateFile(flags.stateDir, name).catch(() => {});
    sd.close();
    process.off('SIGHUP', onHup);
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onTerm);
  }
}
