/**
 * A suite whose contenders could not all run: the report is still printed, and `npm run bench`
 * exits non-zero, so a broken anchor is never read as a missing row.
 */
export class ContendersFailed extends Error {
  constructor(
    readonly report: string,
    readonly failed: string[],
  ) {
    super(`contenders failed to run: ${failed.join('; ')}`);
  }
}
