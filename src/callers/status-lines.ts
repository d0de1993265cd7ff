/** `laplink status` lines for the callers of a `listen:` link, under the link's own row. */
import { printable } from '../status/printable.js';
import type { CallerInfo } from './caller.js';

const bytes = (n: number): string => (n < 10_240 ? `${n} B` : n < 10_485_760 ? `${(n / 1024).toFixed(0)} KiB` : `${(n / 1_048_576).toFixed(1)} MiB`);

/** One line per caller; nothing for a link without callers (any other link). */
export function callerLines(status: { name: string; callers?: CallerInfo[] }): string[] {
  return (status.callers ?? []).map((c) =>
    printable(
      `  ${status.name} caller ${c.remote} ${c.ip}${c.ip6 ? ` ${c.ip6}` : ''}  ${c.state}  since ${c.since.slice(11, 19)}  in ${bytes(c.bytesIn)} out ${bytes(c.bytesOut)}${c.dialled !== undefined ? `  dialled ${c.dialled}` : ''}`,
    ),
  );
}
