import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runChat, type ChatOutput } from '../../src/chat/runner.js';
import { tokensFromArgs } from '../../src/chat/script.js';

// A break cannot be observed on a pseudo-terminal (the pty driver has no break_ctl, so tcsendbreak
// succeeds and sends nothing), so this drives the runner over an in-memory line and records the order
// in which bytes and the break reach it. `laplink chat` wires sendBreak to tcsendbreak(0, 0).
describe('\\K in a send string', () => {
  it('sends the bytes before it, then the break, then the rest', async () => {
    const events: string[] = [];
    const line = new Duplex({
      read() {},
      write(chunk: Buffer, _enc, done) {
        events.push(`bytes:${chunk.toString('latin1')}`);
        done();
      },
    });
    const quiet: ChatOutput = { log() {}, stderr() {}, report() {} };
    const result = await runChat(tokensFromArgs(['', 'AT\\KZ']), line, { sendBreak: () => void events.push('break') }, quiet);
    expect(result.exitCode).toBe(0);
    expect(events.join('')).toBe('bytes:ATbreakbytes:Z\r');
    expect(events.filter((e) => e === 'break')).toHaveLength(1);
    expect(events[0]).toBe('bytes:AT');
  });
});
