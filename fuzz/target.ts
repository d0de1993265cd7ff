import type { IRawProperty } from 'fast-check';

/**
 * One fuzz target: a fast-check property over a parser or merge of the product. The same property runs
 * in `npm test` (test/property/, a few hundred bounded runs with a fixed seed that fast-check prints on
 * failure) and in `npm run fuzz` (10^6 inputs per target). Files in fuzz/targets/ each export `target`.
 */
export interface FuzzTarget {
  /** Short name used on the command line: `npm run fuzz -- NAME`. */
  name: string;
  /** What is fed to what, in a line, for the report. */
  description: string;
  /** A fresh property each call (fast-check properties carry per-run state). */
  property: () => IRawProperty<unknown>;
}
