/** What a worker reports for one target, and how the runner prints it. */
export interface TargetResult {
  name: string;
  /** Inputs run (fewer than asked when one failed: the run ends at the first failure). */
  runs: number;
  crashes: number;
  seconds: number;
  /** CPU time (user + system) of the worker over the run: what an input costs whatever the machine's load. */
  cpuSeconds: number;
  /** Stopped by --max-seconds before `runs` reached what was asked. */
  interrupted: boolean;
  /** Live heap after a full GC, before the first input and after the last, in MB. */
  heapStartMB: number;
  heapEndMB: number;
  seed: number;
  /** The counterexample and how to replay it, or why the worker died. */
  failure?: string;
}

const columns = ['target', 'inputs', 'crashes', 'inputs/s', 'cpu µs/input', 'time s', 'heap MB', 'seed'] as const;
const widths = [22, 9, 7, 9, 12, 8, 13, 12];

function row(cells: string[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' ');
}

export const HEADER = row([...columns]);

export function formatRow(r: TargetResult): string {
  const rate = r.seconds > 0 ? Math.round(r.runs / r.seconds) : 0;
  const heap = `${r.heapStartMB.toFixed(0)}→${r.heapEndMB.toFixed(0)}`;
  const cpu = r.runs > 0 ? ((r.cpuSeconds / r.runs) * 1e6).toFixed(0) : '-';
  return row([r.name, String(r.runs), String(r.crashes), String(rate), cpu, r.seconds.toFixed(1), heap, String(r.seed)]);
}
