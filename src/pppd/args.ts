import { join } from 'node:path';

export interface PppdArgsOptions {
  name: string;
  /** Scratch root the link's files were generated under: pppd's `call` only reads /etc/ppp/peers,
   *  so with a root the peers file is passed with `file`. */
  root?: string;
  /** Serial device overriding the peers file's (pppd takes the last device named). */
  device?: string;
  /** Add pppd's `debug` (packet dumps in the log). */
  debug?: boolean;
}

/** pppd's argv (without the program): always `nodetach` so the supervisor owns the process and
 *  reads its log from stdout/stderr. An array, never a shell string. */
export function pppdArgs(o: PppdArgsOptions): string[] {
  const args = o.root ? ['file', join(o.root, 'etc/ppp/peers', o.name)] : ['call', o.name];
  if (o.device) args.push(o.device);
  args.push('nodetach');
  if (o.debug) args.push('debug');
  return args;
}
