import { describe, expect, it } from 'vitest';
import { parsePppdLine } from '../../src/pppd/log.js';
import { statusTable } from '../../src/status/table.js';
import { applyEvent, type LinkStatus } from '../../src/pppd/state.js';

/** The modem emulator's stderr reaches the supervisor through pppd (connect script stderr = pppd's log fd). */
describe('a dial in the supervisor state', () => {
  it('"modem: peer dialled N" becomes the link state\'s dialled field and a status note', () => {
    const e = parsePppdLine('modem: peer dialled T5551234,,9#');
    expect(e).toEqual({ type: 'dialled', number: 'T5551234,,9#' });
    const s: LinkStatus = { name: 'dialup', state: 'handshaking', since: new Date(0).toISOString(), supervisorPid: process.pid, restarts: 0 };
    expect(applyEvent(s, e, true)).toBeUndefined();
    expect(s.dialled).toBe('T5551234,,9#');
    expect(statusTable([s], 0)).toContain('dialup: peer dialled T5551234,,9#');
  });

  it('other modem lines stay plain log lines', () => {
    expect(parsePppdLine('modem: <- ATDT5551234')).toEqual({ type: 'other', text: 'modem: <- ATDT5551234' });
    expect(parsePppdLine('modem: peer dialled 123 (";": stays in command mode)').type).toBe('other');
  });
});
