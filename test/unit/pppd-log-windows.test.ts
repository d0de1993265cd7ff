import { describe, expect, it } from 'vitest';
import { parsePppdLine } from '../../src/pppd/log.js';
import { applyEvent, type LinkStatus } from '../../src/pppd/state.js';

/**
 * The lines pppd 2.4.9 prints about MS-CHAP and MPPE, copied from the lab's guests (scenario
 * 07-mschap-v2-mppe, `serve --debug`). pppd names neither the CHAP kind nor a CHAP peer without
 * `debug`; the cipher it always names.
 */
describe('pppd lines about authentication kind, CHAP peer and MPPE', () => {
  const cases: Array<[string, unknown]> = [
    ['sent [LCP ConfAck id=0x1 <asyncmap 0x0> <auth chap MS-v2> <magic 0x4baa448> <pcomp> <accomp>]', { type: 'auth-method', method: 'mschap-v2' }],
    ['rcvd [LCP ConfAck id=0x1 <asyncmap 0x0> <auth chap MS-v2> <magic 0x4baa448> <pcomp> <accomp>]', { type: 'auth-method', method: 'mschap-v2' }],
    ['rcvd [LCP ConfAck id=0x1 <asyncmap 0x0> <auth chap MS> <magic 0x1>]', { type: 'auth-method', method: 'mschap' }],
    ['rcvd [LCP ConfAck id=0x2 <asyncmap 0x0> <auth chap MD5> <magic 0x1>]', { type: 'auth-method', method: 'chap' }],
    ['sent [LCP ConfAck id=0x1 <asyncmap 0x0> <auth pap> <magic 0x1>]', { type: 'auth-method', method: 'pap' }],
    ['rcvd [CHAP Response id=0xd5 <3c1f0e8a55c44d0b0000000000000000a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f400>, name = "labuser"]', { type: 'chap-peer-name', user: 'labuser' }],
    ['MPPE 128-bit stateless compression enabled', { type: 'compression', method: 'MPPE 128-bit stateless' }],
  ];
  it.each(cases)('%s', (line, event) => expect(parsePppdLine(line)).toEqual(event));

  it('a ConfReq only offers: it settles nothing', () => {
    expect(parsePppdLine('sent [LCP ConfReq id=0x1 <asyncmap 0x0> <auth chap MS-v2> <magic 0x1>]').type).toBe('other');
  });

  it('the state keeps kind, peer name and cipher', () => {
    const s: LinkStatus = { name: 'l', state: 'negotiating', since: '', supervisorPid: 1, restarts: 0 };
    for (const [line] of [cases[0]!, cases[5]!, cases[6]!]) applyEvent(s, parsePppdLine(line), false);
    expect(s).toMatchObject({ authMethod: 'mschap-v2', peerUser: 'labuser', compression: 'MPPE 128-bit stateless' });
  });
});
