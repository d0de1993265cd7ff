/**
 * Corpus for the differential suite: each case runs once with /usr/sbin/chat and once with
 * `laplink chat` against the same scripted peer. `exit` is what real chat is expected to return (a
 * check that the case tests what its name says). `differs` lists the fields that legitimately differ,
 * with the reason, mirrored in README "chat compatibility".
 */
import type { PeerStep } from '../helpers/chat-harness.js';

export type Field = 'peer' | 'exit' | 'report' | 'stderr';

export interface ChatCase {
  name: string;
  args?: string[];
  script: string[] | { file: string };
  peer: PeerStep[];
  exit: number;
  report?: boolean;
  files?: Record<string, string>;
  env?: Record<string, string>;
  differs?: { fields: Field[]; why: string; laplinkExit?: number };
}

const r = String.raw;
// Long waits: the peer starts before chat does, and chat may start slowly on a busy machine.
const ok = (wait: string, send: string): PeerStep[] => [{ wait, ms: 15000 }, { send }];

export const corpus: ChatCase[] = [
  { name: 'argv script succeeds', script: ['', 'AT', 'OK', 'ATDT'], peer: [...ok('AT\r', 'OK\r\n'), { wait: 'ATDT\r' }], exit: 0 },
  { name: 'file script with comments succeeds', script: { file: "# dial\n'' AT\n# wait\nOK ATZ\n" }, peer: [...ok('AT\r', 'xx OK\r\n'), { wait: 'ATZ\r' }], exit: 0 },
  { name: 'timeout from -t', args: ['-t', '1'], script: ['', 'AT', 'OK', 'X'], peer: [], exit: 3 },
  { name: 'timeout from TIMEOUT keyword', script: { file: "TIMEOUT 1\n'' AT\nOK X\n" }, peer: [], exit: 3 },
  { name: 'TIMEOUT with garbage value falls back to 45 but expect succeeds', script: ['TIMEOUT', 'zz', '', 'A', 'B', ''], peer: ok('A\r', 'B'), exit: 0 },
  {
    name: 'ABORT first string', script: { file: "ABORT BUSY\nABORT 'NO CARRIER'\nABORT ERROR\n'' ATD\nCONNECT ''\n" },
    peer: ok('ATD\r', 'BUSY\r\n'), exit: 4,
  },
  {
    name: 'ABORT second string', script: { file: "ABORT BUSY\nABORT 'NO CARRIER'\nABORT ERROR\n'' ATD\nCONNECT ''\n" },
    peer: ok('ATD\r', 'NO CARRIER\r\n'), exit: 5,
  },
  {
    name: 'ABORT third string', script: { file: "ABORT BUSY\nABORT 'NO CARRIER'\nABORT ERROR\n'' ATD\nCONNECT ''\n" },
    peer: ok('ATD\r', 'ERROR\r\n'), exit: 6,
  },
  { name: 'ABORT completing before the expect string wins', script: ['ABORT', 'BUSY', '', 'ATD', 'CONNECT', ''], peer: ok('ATD\r', 'BUSY CONNECT'), exit: 4 },
  { name: 'expect completing before an ABORT wins', script: ['ABORT', 'BUSY', '', 'ATD', 'CONNECT', ''], peer: ok('ATD\r', 'CONNECT BUSY'), exit: 0 },
  { name: 'ABORT added after the first expect', script: ['', 'AT', 'OK', 'ATD', 'ABORT', 'BUSY', 'CONNECT', ''], peer: [...ok('AT\r', 'OK'), ...ok('ATD\r', 'BUSY')], exit: 4 },
  { name: 'CLR_ABORT removes an ABORT', script: ['ABORT', 'BUSY', 'ABORT', 'ERR', 'CLR_ABORT', 'BUSY', '', 'AT', 'OK', ''], peer: ok('AT\r', 'BUSY OK'), exit: 0 },
  { name: 'CLR_ABORT renumbers the rest', script: ['ABORT', 'BUSY', 'ABORT', 'ERR', 'CLR_ABORT', 'BUSY', '', 'AT', 'OK', ''], peer: ok('AT\r', 'ERR'), exit: 4 },
  { name: 'REPORT to a file', report: true, script: ['REPORT', 'CONNECT', '', 'ATD', 'CONNECT', '', 'OK', ''], peer: [...ok('ATD\r', 'CONNECT 115200\r\n'), { sleep: 100 }, { send: 'OK' }], exit: 0 },
  { name: 'REPORT gathered at the end of the script', report: true, script: ['REPORT', 'CONNECT', '', 'ATD', 'CONNECT', ''], peer: ok('ATD\r', 'CONNECT 9600/V42\r\n'), exit: 0 },
  { name: 'REPORT to a file with -v (Opening/Closing lines)', args: ['-v'], report: true, script: ['REPORT', 'CONNECT', '', 'ATD', 'CONNECT', ''], peer: ok('ATD\r', 'CONNECT 9600\r\n'), exit: 0 },
  { name: 'REPORT to stderr without -r', script: ['REPORT', 'CARRIER', '', 'ATD', 'CONNECT', ''], peer: ok('ATD\r', 'CARRIER 2400\r\nCONNECT\r\n'), exit: 0 },
  { name: 'CLR_REPORT removes a REPORT', report: true, script: ['REPORT', 'CONNECT', 'REPORT', 'RING', 'CLR_REPORT', 'CONNECT', '', 'ATD', 'OK', ''], peer: ok('ATD\r', 'RING 1\r\nCONNECT 1\r\nOK\r\n'), exit: 0 },
  { name: 'REPORT and ABORT on the same line', report: true, script: ['ABORT', 'BUSY', 'REPORT', 'BUSY', '', 'ATD', 'CONNECT', ''], peer: ok('ATD\r', 'BUSY here\r\n'), exit: 4 },
  { name: 'subexpect retry then success', args: ['-t', '2'], script: ['', 'AT', 'OK-AT-OK', 'ATD'], peer: [{ wait: 'AT\r', ms: 15000 }, { wait: 'AT\r', ms: 15000 }, { send: 'OK\r' }, { wait: 'ATD\r' }], exit: 0 },
  { name: 'subexpect chain all timing out', args: ['-t', '1'], script: ['', 'AT', 'OK-AT-OK-AT-OK', 'ATD'], peer: [], exit: 3 },
  { name: 'subexpect ending in a reply succeeds after sending it', args: ['-t', '1'], script: ['', 'AT', 'OK-ATZ', 'X'], peer: [], exit: 0 },
  { name: 'subexpect with an empty reply sends a bare CR', args: ['-t', '2'], script: ['OK--OK', 'X'], peer: [{ wait: '\r', ms: 15000 }, { send: 'OK' }], exit: 0 },
  { name: 'subexpect with escaped dash', args: ['-t', '1'], script: ['A\\-B', 'X'], peer: [{ send: 'xA-B' }], exit: 0 },
  { name: 'send escapes \\b \\n \\r \\s \\t \\\\', script: ['', r`a\bb\nc\rd\se\tf\\g`], peer: [], exit: 0 },
  { name: 'send octal escapes incl. \\0 and 3-digit limit', script: ['', r`\101\0\177\1234\7x`], peer: [], exit: 0 },
  { name: 'send \\N is a NUL byte', script: ['', r`x\Ny`], peer: [], exit: 0 },
  { name: 'send ^X control characters, ^@ dropped, trailing ^', script: ['', 'a^A^Z^[^@b^'], peer: [], exit: 0 },
  { name: 'send trailing backslash', script: ['', 'ab\\'], peer: [], exit: 0 },
  { name: 'send unknown escapes pass the letter', script: ['', r`\x\y\-\q`], peer: [], exit: 0 },
  { name: 'send \\c at the end suppresses CR', script: ['', r`AT\c`], peer: [], exit: 0 },
  { name: 'send \\c in the middle is a c', script: ['', r`A\cB`], peer: [], exit: 0 },
  { name: 'send \\d and \\p delays keep byte order', script: ['', r`A\dB\pC\c`], peer: [], exit: 0 },
  { name: 'send \\K break then text', script: ['', r`A\KB`], peer: [], exit: 0 },
  { name: 'send EOT and BREAK words', script: ['', 'EOT', '', 'BREAK', '', 'x'], peer: [], exit: 0 },
  { name: 'send @file contents', files: { 'msg.txt': 'HELLO there\n' }, script: ['', '@msg.txt'], peer: [], exit: 0 },
  { name: 'expect escapes \\s \\r \\t', script: [r`O\sK\r`, 'X'], peer: [{ send: 'O K\r' }, { wait: 'X\r' }], exit: 0 },
  { name: 'expect ^C control character', script: ['^C', 'X'], peer: [{ send: 'a\x03' }], exit: 0 },
  { name: 'expect octal', script: [r`\101\102`, 'X'], peer: [{ send: 'zAB' }], exit: 0 },
  { name: 'expect \\N matches a letter N', args: ['-t', '1'], script: [r`a\Nb`, 'X'], peer: [{ send: 'aNb' }], exit: 0 },
  { name: 'expect \\d \\p \\K \\c are plain letters', args: ['-t', '1'], script: [r`\d\p\K\c`, 'X'], peer: [{ send: 'dpKc' }], exit: 0 },
  { name: '8th bit stripped from received bytes', args: ['-t', '1'], script: ['OK', 'X'], peer: [{ send: Buffer.from([0xcf, 0xcb]) }], exit: 0 },
  { name: '-T phone number in \\T', args: ['-T', '5551234'], script: ['', r`ATDT\T`], peer: [], exit: 0 },
  { name: '-U second number in \\U', args: ['-U', '99'], script: ['', r`\U,\T`], peer: [], exit: 0 },
  { name: '-E environment in $NAME', args: ['-E'], env: { LAPLINK_CHATVAR: 'hello' }, script: ['', '$LAPLINK_CHATVAR-\\$X'], peer: [], exit: 0 },
  { name: 'ECHO ON copies received bytes to stderr', script: ['ECHO', 'ON', '', 'AT', 'OK', ''], peer: ok('AT\r', 'one\r\ntwo\x01\xff OK'), exit: 0 },
  { name: '-e echo and ECHO OFF', args: ['-e'], script: ['', 'AT', 'OK', '', 'ECHO', 'OFF', '', 'B', 'C', ''], peer: [...ok('AT\r', 'x OK'), ...ok('B\r', 'hidden C')], exit: 0 },
  { name: 'SAY writes to stderr (with CR unless \\c)', script: ['SAY', r`dialing\n`, 'SAY', r`a\tb\c`, '', 'x'], peer: [], exit: 0 },
  { name: 'HANGUP OFF and ON', script: ['HANGUP', 'OFF', '', 'A', 'HANGUP', 'ON', '', 'B'], peer: [], exit: 0 },
  { name: 'empty expect and empty send', script: ['', '', '', ''], peer: [], exit: 0 },
  { name: 'no script at all', script: [], peer: [], exit: 0 },
  { name: 'long expect string split across many reads', script: ['x'.repeat(200) + 'END', 'X'], peer: [{ send: 'x'.repeat(200) + 'END', chunks: [50, 50, 50, 1, 1, 60] }], exit: 0 },
  { name: 'expect bytes split across reads', script: ['CONNECT', 'X'], peer: [{ send: 'CONNECT', chunks: [1, 2, 1, 3], gap: 50 }], exit: 0 },
  { name: 'match after 1500 bytes of noise (rolling buffer) with -v', args: ['-v', '-s'], script: ['ZZTOP', 'X'], peer: [{ send: ('noise-' + 'n'.repeat(90) + '\n').repeat(15) + 'ZZTOP' }], exit: 0 },
  {
    name: 'script line over 1023 bytes is split like fgets', script: { file: "TIMEOUT 5\n'' " + ' '.repeat(1018) + 'ABCDEF\n' },
    peer: [{ wait: 'AB\r', ms: 15000 }, { send: 'CDEF' }], exit: 0,
  },
  { name: '-v -s log of a successful exchange', args: ['-v', '-s'], script: ['ABORT', 'BUSY', 'REPORT', 'CON', '', 'AT', 'OK', r`ATD\T`], peer: ok('AT\r', 'AT\r\r\nOK\r\n'), exit: 0 },
  { name: '-v -s log of a timeout', args: ['-v', '-s', '-t', '1'], script: ['', 'AT', 'OK', 'X'], peer: [{ send: 'partial\r\nline' }], exit: 3 },
  { name: '-v -s log of an ABORT', args: ['-vs'], script: ['ABORT', 'BUSY', '', 'AT', 'OK', ''], peer: ok('AT\r', 'BUSY'), exit: 4 },
  { name: '-v -s \\q hides the send string', args: ['-v', '-s'], script: ['', r`secret\q`], peer: [], exit: 0 },
  { name: '-V copies received bytes to stderr', args: ['-V'], script: ['', 'AT', 'OK', ''], peer: ok('AT\r', 'a\r\nb\x02 OK'), exit: 0 },
  { name: 'ABORT string too long', args: ['-t', '1'], script: ['ABORT', 'x'.repeat(60), '', 'A'], peer: [], exit: 1 },
  { name: 'expect string too long', args: ['-t', '1'], script: ['y'.repeat(1100), 'A'], peer: [], exit: 1 },
  {
    name: 'missing script file', args: ['-f', 'no-such.chat'], script: [], peer: [], exit: 1,
    differs: { fields: ['stderr'], why: 'chat logs "-- open failed" to syslog only; laplink also prints it on stderr' },
  },
  {
    name: 'unterminated quote in a script file', script: { file: "'' AT\nOK 'oops\n" }, peer: ok('AT\r', 'OK'), exit: 1,
    differs: { fields: ['peer', 'stderr'], why: 'chat runs the lines before the bad one and logs to syslog; laplink checks the whole file first and names file, line and token on stderr' },
  },
  // 8-bit escapes (issue 18): octal escapes carry all 8 bits when sent, received bytes are stripped to 7.
  { name: 'send 8-bit octal escapes \\200-\\377', script: ['', r`\200\201\241\300\376\377x`], peer: [], exit: 0 },
  { name: 'send 8-bit octal escapes from a script file', script: { file: "'' '\\200\\252\\377'\n" }, peer: [], exit: 0 },
  { name: '-v -s logs 8-bit sends', args: ['-v', '-s'], script: ['', r`\200\237\240\377`], peer: [], exit: 0 },
  { name: 'SAY with 8-bit octal escapes', script: ['SAY', r`\200\377\n`, '', 'x'], peer: [], exit: 0 },
  { name: 'expect \\377 never matches a received 0xff (bit 8 stripped)', args: ['-t', '1'], script: ['', 'AT', r`\377`, 'x'], peer: ok('AT\r', '\xff\x7f\xff'), exit: 3 },
  { name: 'expect \\301 never matches with -e echoing the stripped bytes', args: ['-e', '-t', '1'], script: ['', 'AT', r`\301K`, 'x'], peer: ok('AT\r', '\xc1K AK'), exit: 3 },
  { name: 'expect 7-bit text sent with bit 8 set matches (ECHO ON)', script: ['ECHO', 'ON', '', 'AT', 'OK', r`\317\313`], peer: [...ok('AT\r', '\xcf\xcb'), { wait: '\xcf\xcb\r' }], exit: 0 },
  { name: '-v -s logs 8-bit received bytes stripped', args: ['-v', '-s', '-t', '2'], script: ['', 'AT', 'OK', r`\377`], peer: ok('AT\r', '\x80\xfe\xc1OK'), exit: 0 },
  {
    name: 'unknown option', args: ['-x'], script: ['', 'A'], peer: [], exit: 1,
    differs: { fields: ['stderr'], why: 'chat prints its two-line usage; laplink prints one line naming the option' },
  },
  {
    name: 'device disappears mid-script', args: ['-t', '2'], script: ['', 'AT', 'OK', 'X'], peer: [{ wait: 'AT\r' }, { hangup: true }], exit: 2,
    differs: { fields: ['stderr'], why: 'chat fails the expect, then exits 2 when it cannot restore the termios, logging to syslog only; laplink says "device gone" on stderr' },
  },
];
