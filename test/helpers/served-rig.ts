import type net from 'node:net';
import { freePort, serveLaplink } from './bridge-processes.js';
import { connectTcp, openTty } from './driver.js';
import { ask, linkUp, openControl } from './bridge.js';
import { startPtyPair } from './ptypair.js';

/**
 * A served socat pty pair with a control port, one TCP client linked end to end and the far end of
 * the pty open: the rig of the pump and pace tests. Everything started is pushed on `cleanups`.
 * `connect` makes the client (a TLS one for a TLS port).
 */
export async function servedRig(cleanups: Array<() => unknown>, extra: string[] = [], connect: (port: number) => Promise<net.Socket> = connectTcp) {
  const pair = await startPtyPair();
  cleanups.push(pair.close);
  const controlPort = await freePort();
  const serve = await serveLaplink(pair.a, ['--control', `127.0.0.1:${controlPort}`, ...extra]);
  cleanups.push(serve.stop);
  await serve.waitForOutput(`listening on 127.0.0.1:${controlPort}`);
  const ctl = await openControl(controlPort);
  cleanups.push(() => ctl.destroy());
  const tcp = await connect(serve.port);
  cleanups.push(() => tcp.destroy());
  const far = openTty(pair.b);
  cleanups.push(() => far.destroy());
  await linkUp(tcp, far, ['client', 'device side']);
  const show = async (): Promise<string> => ask(ctl, `showport ${serve.port}`);
  /** The data path the port's showport reports (native pump or JavaScript, and why). */
  const dataPath = async (): Promise<string> => /data path: (.*)\r/.exec(await show())?.[1] ?? '(no data path line)';
  return { pair, serve, controlPort, ctl, tcp, far, show, dataPath };
}
