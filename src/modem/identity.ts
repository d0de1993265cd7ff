/**
 * What `ATI0`..`ATI7` show. Dialers print these in their logs (wvdialconf's "Modem Identifier",
 * Windows' "Query Modem"); none decides anything on them, so they say plainly what answers.
 */
const LINES: ReadonlyArray<readonly string[]> = [
  ['ppp-laplink'], // I0: product code
  ['000'], // I1: ROM checksum
  ['OK'], // I2: ROM test
  ['ppp-laplink Hayes-compatible modem emulator (null-modem cable)'], // I3: identification
  ['a007840C6C7F0000', 'bF60410000', 'r1031111111010000'], // I4: capability bit maps, in the Hayes form
  ['000'], // I5: country code
  ['no data pump: PPP runs over the cable'], // I6: data pump
  ['ppp-laplink modem answer'], // I7: product configuration
];

export function identify(n: number): string[] {
  return [...(LINES[n] ?? LINES[0]!)];
}
