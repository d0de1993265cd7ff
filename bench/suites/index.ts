import type { BenchSuite } from '../lib/suite.js';

/** One entry per benchmark suite, loaded only when it runs; each prints its own side-by-side ratio table. */
export const suites: Array<() => Promise<BenchSuite>> = [
  () => import('./supervisor.js').then((m) => m.default),
  async () => (await import('./bridge.js')).suite,
  async () => (await import('./chat.js')).default,
  async () => (await import('./link.js')).suite,
  async () => (await import('./churn.js')).suite,
  async () => (await import('./watch.js')).default,
  async () => (await import('./exporter.js')).default,
  async () => (await import('./web.js')).default,
  async () => (await import('./callers.js')).default,
];
