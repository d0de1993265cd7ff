import { execa } from 'execa';
import { mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateLink } from '../../src/render/generate.js';
import { startPtyPair, type PtyPair } from '../helpers/ptypair.js';

/**
 * The chat script files `generate` writes for Windows peers (the DCC template plus our ownership
 * header) run under real /usr/sbin/chat over a socat pty pair. There is no Windows here: the peer
 * is a small DCC emulator in /usr/bin/python3 that plays the other side of CLIENT/CLIENTSERVER.
 */
const EMULATOR = String.raw`
import os, sys, select, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
role, seen, deadline = sys.argv[2], b"", time.time() + 15
while time.time() < deadline:
    if role == "guest":            # Windows guest: send CLIENT until CLIENTSERVER arrives
        os.write(fd, b"CLIENT")
    r, _, _ = select.select([fd], [], [], 0.3)
    if r:
        seen += os.read(fd, 256)
    if role == "host" and b"CLIENT" in seen:   # Windows host: answer CLIENT once
        os.write(fd, b"CLIENTSERVER"); print("answered"); sys.exit(0)
    if role == "guest" and b"CLIENTSERVER" in seen:
        print("got CLIENTSERVER"); sys.exit(0)
print("timeout, saw %r" % seen); sys.exit(1)
`;

let dir: string;
let cable: PtyPair | undefined;
let ptys: [string, string];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'laplink-chat-'));
  // chat alone on its end, as under pppd: the rig holds neither
  cable = await startPtyPair({ holdEnds: false });
  // the profile takes device paths under /dev: the ptys the links point at
  ptys = [await realpath(cable.a), await realpath(cable.b)];
});
afterEach(async () => {
  await cable?.close();
  cable = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function runChat(role: 'server' | 'client') {
  const [ours, theirs] = ptys;
  const profile = join(dir, 'p.yaml');
  const auth = role === 'server' ? 'auth: { require: none }' : 'auth: {}';
  await writeFile(profile, `name: dcc-${role}\nrole: ${role}\npeer: windows\ndevice: ${ours}\nlocalIp: 10.0.0.${role === 'server' ? 1 : 2}\nremoteIp: 10.0.0.${role === 'server' ? 2 : 1}\nhandshake: { engine: chat, timeout: 10 }\n${auth}\n`);
  await generateLink(profile, { root: dir, laplinkArgv: ['/usr/bin/node', '/opt/laplink/bin/laplink.js'] });
  const script = join(dir, 'etc/ppp/chat', `dcc-${role}`);
  // the emulator plays Windows: a guest for our host (server) and a host for our guest (client)
  const peer = execa('/usr/bin/python3', ['-c', EMULATOR, theirs, role === 'server' ? 'guest' : 'host'], { reject: false, timeout: 20_000 });
  const chat = execa('sh', ['-c', `exec /usr/sbin/chat -f "$1" <"$2" >"$2"`, 'sh', script, ours], { reject: false, timeout: 20_000 });
  const [c, p] = await Promise.all([chat, peer]);
  return { chat: c, peer: p };
}

describe('real chat runs the generated DCC scripts against a DCC emulator (no Windows here)', () => {
  it('server (DCC host): waits for CLIENT, answers CLIENTSERVER, exits 0', async () => {
    const { chat, peer } = await runChat('server');
    expect(peer.stdout).toBe('got CLIENTSERVER');
    expect(chat.exitCode, chat.stderr).toBe(0);
  });

  it('client (DCC guest): sends CLIENT until CLIENTSERVER arrives, exits 0', async () => {
    const { chat, peer } = await runChat('client');
    expect(peer.stdout).toBe('answered');
    expect(chat.exitCode, chat.stderr).toBe(0);
  });
});
