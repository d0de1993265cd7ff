import { describe, expect, it } from 'vitest';
import { ModemEngine, type EngineEvent } from '../../src/modem/engine.js';
import { readFileSync } from 'node:fs';
import { BASIC, parseCommandLine } from '../../src/modem/command-line.js';
import { MODEM_USAGE } from '../../src/modem/options.js';

/** Drives the engine like a dialer would and collects what it sends back as text. */
function modem(opts: { ring?: boolean; speed?: number } = {}) {
  let t = 0;
  const m = new ModemEngine({ connectSpeed: opts.speed ?? 115200, ...(opts.ring ? { ring: true, ringIntervalMs: 6000 } : {}) }, t);
  const events: EngineEvent[] = [];
  const sent = (evs: EngineEvent[]) => {
    events.push(...evs);
    return evs.filter((e) => e.type === 'send').map((e) => (e as { bytes: Buffer }).bytes.toString('latin1')).join('');
  };
  return {
    m,
    events,
    send: (text: string | Buffer, at = t) => {
      t = at;
      return sent(m.feed(typeof text === 'string' ? Buffer.from(text, 'latin1') : text, t));
    },
    tick: (at: number) => {
      t = at;
      return sent(m.tick(t));
    },
  };
}

describe('modem engine: what a dialer sends gets what a modem answers', () => {
  it('echoes and answers OK to a Windows standard-modem init string, several commands on a line', () => {
    const d = modem();
    expect(d.send('AT&FE0V1&C1&D2S95=47S0=0\r')).toBe('AT&FE0V1&C1&D2S95=47S0=0\r\r\nOK\r\n');
    // E0 took effect after that line was echoed
    expect(d.send('AT\r')).toBe('\r\nOK\r\n');
  });

  it('accepts spaces and lower case, and at but not aT', () => {
    const d = modem();
    expect(d.send('at&f e0 v1 &d2 &c1 s0=0\r')).toContain('OK');
    expect(d.send('aT\r')).toBe('');
  });

  it('answers numeric codes with V0 and nothing with Q1; Z restores what &W stored', () => {
    const d = modem();
    d.send('ATE0\r');
    expect(d.send('ATV0\r')).toBe('0\r');
    expect(d.send('ATJ\r')).toBe('4\r');
    expect(d.send('ATO\r')).toBe('3\r');
    expect(d.send('ATQ1\r')).toBe('');
    expect(d.send('ATI0\r')).toBe('ppp-laplink\r\n');
    d.send('ATQ0V1&W\r');
    d.send('ATV0\r');
    expect(d.send('ATZ\r')).toBe('\r\nOK\r\n');
    expect(d.send('AT&F\r')).toBe('\r\nOK\r\n');
    expect(d.send('AT\r')).toBe('AT\r\r\nOK\r\n');
  });

  it('queries and sets S registers; out-of-range values and unknown commands are ERROR and change nothing', () => {
    const d = modem();
    d.send('ATE0\r');
    expect(d.send('ATS0?S12?S2?\r')).toBe('\r\n000\r\n\r\n050\r\n\r\n043\r\n\r\nOK\r\n');
    expect(d.send('ATS7=60S7?\r')).toBe('\r\n060\r\n\r\nOK\r\n');
    expect(d.send('ATS7=30S7=256\r')).toBe('\r\nERROR\r\n');
    expect(d.send('ATS7?\r')).toBe('\r\n060\r\n\r\nOK\r\n');
    expect(d.send('ATE1J\r')).toBe('\r\nERROR\r\n');
    expect(d.send('ATX8\r')).toBe('\r\nERROR\r\n');
    expect(d.send('AT&C1&D2&K3&S0\\N3M1L2W2X3B0N1Y0%C0&Q5+FCLASS=0\r')).toBe('\r\nOK\r\n');
  });

  it('dials any dial string: CONNECT with the speed at X1-X4, plain CONNECT at X0, and reports the number', () => {
    const d = modem({ speed: 57600 });
    d.send('ATE0\r');
    expect(d.send('ATDT5551234\r')).toBe('\r\nCONNECT 57600\r\n');
    expect(d.events).toContainEqual({ type: 'connected', how: 'dialled', speed: 57600, number: '5551234' });
    const x0 = modem();
    expect(x0.send('ATE0X0\r')).toContain('OK');
    expect(x0.send('ATDP9W,1-800-FLOWERS*70#!@\r')).toBe('\r\nCONNECT\r\n');
    expect(x0.events).toContainEqual(expect.objectContaining({ type: 'dialled', number: '9W,1-800-FLOWERS*70#!@' }));
  });

  it('a dial string ending in ; stays in command mode', () => {
    const d = modem();
    expect(d.send('ATE0DT123;\r')).toBe('ATE0DT123;\r\r\nOK\r\n');
    expect(d.m.online).toBe(false);
  });

  it('ignores noise before AT, repeats with A/, edits with backspace and drops the line on Ctrl-X', () => {
    const d = modem();
    d.send('ATE0\r');
    expect(d.send(Buffer.from([0x00, 0xff, 0x7e, 0x41, 0x41, 0x7e, 0x13]))).toBe('');
    expect(d.send('\x7e\xff\x03ATI0\r')).toBe('\r\nppp-laplink\r\n\r\nOK\r\n');
    expect(d.send('A/')).toBe('\r\nppp-laplink\r\n\r\nOK\r\n');
    expect(d.send('ATI9\x080\r')).toContain('ppp-laplink');
    expect(d.send('ATXYZ\x18ATS0?\r')).toBe('\r\n000\r\n\r\nOK\r\n');
  });

  it('takes LF as the end of a line too (a CR turned into LF by a cooked tty), and CR LF as one line', () => {
    const d = modem();
    d.send('ATE0\r');
    expect(d.send('AT\nAT\nAT\r\n')).toBe('\r\nOK\r\n'.repeat(3));
  });

  it('a 10,000-character dial string is ERROR, and the next command works', () => {
    const d = modem();
    d.send('ATE0\r');
    expect(d.send(`ATDT${'5'.repeat(10_000)}\r`)).toBe('\r\nERROR\r\n');
    expect(d.send('AT\r')).toBe('\r\nOK\r\n');
  });

  it('+++ with guard time escapes to command mode; O resumes and H hangs up', () => {
    const d = modem();
    d.send('ATE0D5\r', 0);
    expect(d.m.online).toBe(true);
    // pluses inside data (no guard time before them) are data
    d.send('x+++', 100);
    expect(d.tick(5000)).toBe('');
    // guard (S12 = 50 → 1 s) before, three pluses, guard after
    d.send('+', 6200);
    d.send('+', 6300);
    d.send('+', 6400);
    expect(d.m.nextDeadline()).toBe(7400);
    expect(d.tick(7399)).toBe('');
    expect(d.tick(7400)).toBe('\r\nOK\r\n');
    expect(d.m.online).toBe(false);
    expect(d.send('ATO\r', 8000)).toBe('\r\nCONNECT 115200\r\n');
    d.send('+++', 10_000);
    d.tick(11_000);
    expect(d.send('ATH\r', 11_500)).toBe('\r\nOK\r\n');
    expect(d.events.some((e) => e.type === 'hung-up')).toBe(true);
    expect(d.send('ATO\r', 12_000)).toBe('\r\nNO CARRIER\r\n');
  });

  it('stops reading after a line that hangs up: what follows in the same chunk is left unread, for the next call', () => {
    const d = modem();
    d.send('ATE0D5\r', 0);
    d.send('+++', 2000);
    d.tick(3000);
    expect(d.send('ATH\rATDT5550002\r~', 3500)).toBe('\r\nOK\r\n');
    expect(d.events.at(-1)).toEqual({ type: 'unread', bytes: Buffer.from('ATDT5550002\r~') });
    expect(d.events.some((e) => e.type === 'dialled' && e.number === '5550002')).toBe(false);
    expect(d.m.online).toBe(false);
    // fed again, they dial
    expect(d.send('ATDT5550002\r', 3600)).toBe('\r\nCONNECT 115200\r\n');
    // an ATH with no connection hangs nothing up: the rest of the chunk is read as usual
    const idle = modem();
    idle.send('ATE0\r');
    expect(idle.send('ATH\rAT\r')).toBe('\r\nOK\r\n\r\nOK\r\n');
    expect(idle.events.some((e) => e.type === 'unread')).toBe(false);
  });

  it('carrier lost (the far end ended the call): NO CARRIER once, command mode, O cannot resume, D dials again', () => {
    const d = modem();
    d.send('ATE0D5\r', 0);
    const lost = d.m.carrierLost();
    expect(lost.filter((e) => e.type === 'send').map((e) => (e as { bytes: Buffer }).bytes.toString('latin1')).join('')).toBe('\r\nNO CARRIER\r\n');
    expect(d.m.online).toBe(false);
    expect(d.m.carrierLost()).toEqual([]);
    expect(d.send('ATO\r', 100)).toBe('\r\nNO CARRIER\r\n');
    expect(d.send('ATD6\r', 200)).toBe('\r\nCONNECT 115200\r\n');
    expect(d.m.online).toBe(true);
  });

  it('rings with --ring, answers on ATA, and auto-answers after S0 rings', () => {
    const d = modem({ ring: true });
    expect(d.tick(0)).toBe('\r\nRING\r\n');
    expect(d.m.nextDeadline()).toBe(6000);
    expect(d.send('ATA\r', 1000)).toBe('ATA\r\r\nCONNECT 115200\r\n');
    const auto = modem({ ring: true });
    auto.send('ATE0S0=2\r');
    expect(auto.tick(0)).toBe('\r\nRING\r\n');
    expect(auto.tick(6000)).toBe('\r\nRING\r\n\r\nCONNECT 115200\r\n');
    expect(auto.m.online).toBe(true);
  });
});

describe('AT command line parser', () => {
  it('takes D as the rest of the line and A/O as the end of it', () => {
    expect(parseCommandLine('E0 D T 555 1234')).toEqual({ ok: true, commands: [{ kind: 'basic', name: 'E', value: 0 }, { kind: 'dial', dialString: 'T5551234', stayInCommandMode: false }] });
    expect(parseCommandLine('AE1')).toEqual({ ok: true, commands: [{ kind: 'basic', name: 'A', value: 0 }] });
  });
  it('rejects S registers past 255 and values past a byte', () => {
    expect(parseCommandLine('S256=1').ok).toBe(false);
    expect(parseCommandLine('S1=0007').ok).toBe(false);
    expect(parseCommandLine('S1=255').ok).toBe(true);
  });
});

describe('what real dialers send: accepted as a real modem would, ERROR for what none has', () => {
  it('docs/dialup.md lists exactly the basic commands and values the parser takes', () => {
    const rows = [...readFileSync('docs/dialup.md', 'utf8').matchAll(/^\| `([^`]+)` \| ([^|]+) \| [^|]+ \|$/gm)].map((m) => [m[1]!, m[2]!.trim()]);
    const fromCode = Object.entries(BASIC).map(([name, spec]) => [name, typeof spec.values === 'number' ? (spec.values === 0 ? '0' : `0–${spec.values}`) : spec.values.join(', ')]);
    expect(rows).toEqual(fromCode);
    for (const [name, values] of fromCode) {
      const highest = Number(values!.split(/[–, ]+/).at(-1));
      expect(parseCommandLine(`${name}${highest}`).ok, `${name}${highest}`).toBe(true);
      expect(parseCommandLine(`${name}${highest + 1}`).ok, `${name}${highest + 1}`).toBe(false);
    }
  });

  it('voice, fax, ISDN adapter and unknown commands are ERROR and change nothing on their line', () => {
    const d = modem();
    d.send('ATE0\r');
    for (const line of ['AT#CLS=8', 'AT#VTX', 'AT+FCLASS=1', 'ATB8', 'ATB40', 'AT\\N10%P1', 'AT&Q12', 'ATJ', 'AT&Z', 'ATB4']) {
      expect(d.send(`ATE1${line.slice(2)}\r`), line).toBe('\r\nERROR\r\n');
    }
    expect(d.send('AT\r'), 'E1 before the bad command did not take effect').toBe('\r\nOK\r\n');
  });
});

describe('modem answer synopsis', () => {
  it('README and docs/dialup.md name every flag the usage text names', () => {
    const flags = (text: string) => [...new Set(text.match(/--[a-z-]+/g))].sort();
    const usage = flags(MODEM_USAGE.split('\n').slice(0, 2).join(' '));
    expect(usage).toEqual(['--device', '--quiet', '--ring', '--ring-interval', '--speed', '--timeout']);
    for (const doc of ['README.md', 'docs/dialup.md']) {
      const synopsis = /^laplink modem answer .*$/m.exec(readFileSync(doc, 'utf8'))![0];
      expect(flags(synopsis), doc).toEqual(usage);
    }
    // an installed package's peers file names npm's bin link, not the script inside the package
    expect(readFileSync('docs/dialup.md', 'utf8')).not.toMatch(/laplink\.js modem answer/);
  });
});
