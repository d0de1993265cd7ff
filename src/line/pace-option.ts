/**
 * The one hook between a bridge and line pacing: the line as it is when `pace` is undefined (the
 * native pump may then take its sessions, and the pacer is never loaded), else paced at `pace` baud.
 */
import type { Line } from './line.js';

export async function withPace(line: Line, pace: number | undefined): Promise<Line> {
  if (pace === undefined) return line;
  const { PacedLine } = await import('./paced-line.js');
  return new PacedLine(line, { baud: pace });
}
