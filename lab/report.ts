import type { ScenarioResult } from './run.js';

/** The lab's timing table in Markdown (the lab must fit CI's budget; see README "Lab"). */
export function timingTable(prepSeconds: number, results: readonly ScenarioResult[]): string {
  const total = results.reduce((n, r) => n + r.seconds, 0) + prepSeconds;
  return [
    '| scenario | result | seconds | runs on |',
    '|---|---|---|---|',
    `| prepare (kernel+initramfs, cached) | ok | ${prepSeconds.toFixed(1)} | |`,
    ...results.map((r) => `| ${r.id} ${r.title} | ${r.ok ? 'PASS' : 'FAIL'} | ${r.seconds.toFixed(1)} | ${r.runsOn} |`),
    `| total | ${results.length && results.every((r) => r.ok) ? 'PASS' : 'FAIL'} | ${total.toFixed(1)} | |`,
  ].join('\n');
}
