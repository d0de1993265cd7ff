/**
 * An AF_UNIX datagram socket where systemd's notify socket would be: python3's socket module bound
 * to a path or, for `@name`, an abstract name, printing each datagram it receives. A real receiver
 * of the protocol (Node has no AF_UNIX datagram sockets).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { waitUntil } from './bridge.js';

const PY = '/usr/bin/python3';
const RECEIVER = `
import json, socket, sys
a = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind('\\0' + a[1:] if a.startswith('@') else a)
print(json.dumps('bound'), flush=True)
while True:
    print(json.dumps(s.recv(65536).decode()), flush=True)
`;

export interface NotifySocket {
  /** Every datagram received, in order. */
  readonly messages: string[];
  close(): Promise<void>;
}

/** Binds `address` (a path, or `@name`) and returns once it is bound; close() ends the receiver. */
export async function notifySocket(address: string): Promise<NotifySocket> {
  const py = spawn(PY, ['-c', RECEIVER, address], { stdio: ['ignore', 'pipe', 'inherit'] });
  const close = async () => {
    py.kill('SIGTERM');
    if (py.exitCode === null && py.signalCode === null) await once(py, 'exit');
  };
  const messages: string[] = [];
  createInterface({ input: py.stdout }).on('line', (l) => messages.push(JSON.parse(l) as string));
  try {
    await waitUntil(() => messages[0] === 'bound' || py.exitCode !== null, `${PY} to bind ${address}`, 10_000, 10);
    if (py.exitCode !== null) throw new Error(`${PY} could not bind ${address}`);
  } catch (err) {
    await close();
    throw err;
  }
  messages.shift();
  return { messages, close };
}
