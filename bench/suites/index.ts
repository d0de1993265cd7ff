/** One entry per benchmark suite; each prints its own side-by-side ratio table. */
export interface BenchSuite {
  name: string;
  run(options: { quick: boolean; signal: AbortSignal }): Promise<string>;
}

export const suites: Array<() => Promise<BenchSuite>> = [
  async () => (await import('./chat.js')).default,
  () => import('./supervisor.js').then((m) => m.default),
];
