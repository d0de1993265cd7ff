/** A benchmark suite: it prints its own side-by-side ratio table. */
export interface BenchSuite {
  name: string;
  /** `only`: configuration names to run (`--only`), for suites that have them. */
  run(options: { quick: boolean; signal: AbortSignal; only?: string[] }): Promise<string>;
}
