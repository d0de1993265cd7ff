/**
 * The control port's failures are the project's typed errors: a bad setportconfig word is a
 * UsageError naming it (the operator's mistake), never a plain Error a caller must guess about.
 */
import { describe, expect, it } from 'vitest';
import { parsePortConfig } from '../../src/bridge/control.js';
import { UsageError } from '../../src/errors.js';

describe('setportconfig words', () => {
  it('a word it does not know is a UsageError naming the word, as ser2net words it', () => {
    let thrown: unknown;
    try {
      parsePortConfig(['9600', 'EVEN', 'SIDEWAYS']);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(UsageError);
    expect((thrown as UsageError).message).toBe('Invalid port config: SIDEWAYS');
  });

  it('the words it knows make settings', () => {
    expect(parsePortConfig(['9600', 'EVEN', '2STOPBITS', '7DATABITS', 'RTSCTS', '-LOCAL'])).toEqual({ speed: 9600, parity: 'even', stopBits: 2, dataBits: 7, flow: 'rtscts', local: false });
  });
});
