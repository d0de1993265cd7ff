import { describe, expect, it } from 'vitest';
import { loadPings } from '../../lab/scenario-link.js';

/** Lines as guest B printed them in the lab (two runs of the same kind in one boot, out of order with other markers). */
const consoleB = `LAB:IDLE-PING time=11.996 ms
LAB:IDLE-PING time=5.677 ms
LAB:XFER up random 90112 955 exact
LAB:LOAD-PING up random off time=2601.2 ms
LAB:LOAD-PING up random off time=3861.0 ms
LAB:LOAD-PINGS up random off 3 packets transmitted, 2 packets received retrans 0
LAB:QUEUE server qdisc fq_codel 0: root refcnt 2
LAB:LOAD-PING up random server time=1705.5 ms
LAB:LOAD-PINGS up random server 1 packets transmitted, 1 packets received retrans 30
LAB:LOAD-PING up random off time=18.5 ms
LAB:LOAD-PINGS up random off 1 packets transmitted, 1 packets received retrans 1
LAB:XFER down random 24576 231 exact
LAB:LOAD-PING both random on time=74.1 ms
LAB:XFER up random 24576 240 exact
LAB:LOAD-PING both random on time=131.9 ms
LAB:LOAD-PINGS both random on 2 packets transmitted, 2 packets received retrans 2
`;

describe('loadPings', () => {
  it('groups each transfer\'s pings up to its summary, even when a kind repeats', () => {
    const { idle, loaded } = loadPings(consoleB);
    expect(idle).toEqual([11.996, 5.677]);
    expect(loaded).toEqual([
      { dir: 'up', name: 'random', queue: 'off', sent: 3, received: 2, retrans: 0, times: [2601.2, 3861] },
      { dir: 'up', name: 'random', queue: 'server', sent: 1, received: 1, retrans: 30, times: [1705.5] },
      { dir: 'up', name: 'random', queue: 'off', sent: 1, received: 1, retrans: 1, times: [18.5] },
      // transfers both ways at once: their pings are one group, whatever the XFER lines between
      { dir: 'both', name: 'random', queue: 'on', sent: 2, received: 2, retrans: 2, times: [74.1, 131.9] },
    ]);
  });
});
