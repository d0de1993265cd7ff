import { InvalidArgumentError } from 'commander';

/**
 * Commander's argParser for a flag that takes a whole number: every such flag of the `laplink`
 * commands is parsed here, at parse time, so `--grace abc` is a usage error (exit 2) naming the
 * flag, `laplink: option '--grace <ms>' argument 'abc' is invalid. Expected a whole number, 0 or more.`, before anything starts.
 * Digits only: no sign, exponent, hex or fraction slips through as Number() would let it.
 */
export function wholeNumber(min = 0, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const n = /^\d+$/.test(value) ? Number(value) : NaN;
    if (!(n >= min && n <= max)) throw new InvalidArgumentError(max === Number.MAX_SAFE_INTEGER ? `Expected a whole number, ${min} or more.` : `Expected a whole number from ${min} to ${max}.`);
    return n;
  };
}
