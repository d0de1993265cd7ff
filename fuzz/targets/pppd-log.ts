import fc from 'fast-check';
import { parsePppdLine } from '../../src/pppd/log.js';
import type { FuzzTarget } from '../target.js';

/** pppd's message shapes with holes where a peer or a device controls the text. */
const SHAPES = [
  'PAP peer authentication succeeded for %',
  'PAP peer authentication failed for %',
  'Peer % failed PAP authentication',
  'Remote message: %',
  'LCP terminated by peer (%)',
  '% terminated by peer',
  'Failed to open %: %',
  'Device % is locked by pid 12',
  'user % logged in',
  'Connect: ppp0 <--> %',
  'Using interface %',
  'pppd: %',
  '%',
];

const line = fc
  .tuple(fc.constantFrom(...SHAPES), fc.array(fc.string({ unit: 'binary', maxLength: 12 }), { minLength: 2, maxLength: 2 }), fc.constantFrom('', '\r', '  '))
  .map(([shape, holes, tail]) => ({ shape, holes, tail }));

export const target: FuzzTarget = {
  name: 'pppd-log',
  description: 'pppd log lines with a password inside (as user, reason, message, device) → parsePppdLine: never throws, no field holds the password',
  property: () =>
    fc.property(line, fc.string({ minLength: 1, maxLength: 10 }), fc.nat(3), ({ shape, holes, tail }, password, where) => {
      // put the password into the holes, whole or run into its neighbours
      const filled = holes.map((h, i) => (i === where % 2 ? `${h.slice(0, where)}${password}${h.slice(where)}` : h));
      let k = 0;
      const raw = shape.replace(/%/g, () => filled[k++ % 2]!) + tail;
      const event = parsePppdLine(raw, [password]);
      for (const [field, value] of Object.entries(event)) {
        if (field !== 'type' && typeof value === 'string' && value.includes(password)) throw new Error(`${event.type}.${field} shows the password`);
      }
    }),
};
