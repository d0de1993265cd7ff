import fc from 'fast-check';
import { ChatScriptError } from '../../src/chat/chat-errors.js';
import { ChatUsageError, parseChatArgs } from '../../src/chat/options.js';
import { STR_LEN, tokenizeFile } from '../../src/chat/script.js';
import type { FuzzTarget } from '../target.js';

const scriptBytes = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
  fc
    .array(fc.constantFrom("''", '"', "'", 'ABORT', 'BUSY', '\\', '\\"', ' ', '\t', '\n', '#', 'OK', 'AT\\r', '\\377', '\x00', "'a b'", '"x\\"y"'), { maxLength: 60 })
    .map((w) => Buffer.from(w.join(''), 'latin1')),
  fc.integer({ min: STR_LEN - 3, max: STR_LEN + 3 }).map((n) => Buffer.concat([Buffer.from("'"), Buffer.alloc(n, 0x41), Buffer.from("'\n")])),
);

const argv = fc.array(
  fc.oneof(fc.constantFrom('-e', '-E', '-v', '-V', '-s', '-S', '-t', '-t5', '-T', '-U', '-r', '-f', '--', '-', '--preset', '--preset=dcc-host', '-vst', '-Q', '', 'OK', 'x'), fc.string({ maxLength: 8 })),
  { maxLength: 10 },
);

export const target: FuzzTarget = {
  name: 'chat-script',
  description: 'chat script bytes → tokenizeFile and argv → parseChatArgs: tokens, or a typed error naming file:line (tokenizer) or the option (arguments); never anything else',
  property: () =>
    fc.property(scriptBytes, argv, (bytes, args) => {
      try {
        const tokens = tokenizeFile(bytes, 'fuzz.chat');
        for (const t of tokens) if (t.line < 1 || t.bytes.includes(0)) throw new Error(`bad token ${JSON.stringify(t)}`);
      } catch (err) {
        if (!(err instanceof ChatScriptError) || !/^fuzz\.chat:\d+: /.test(err.message)) throw err;
      }
      try {
        const o = parseChatArgs(args);
        if (o.timeout !== undefined && !Number.isInteger(o.timeout)) throw new Error(`timeout ${o.timeout}`);
      } catch (err) {
        if (!(err instanceof ChatUsageError) || !/usage: laplink chat/.test(err.message)) throw err;
      }
    }),
};
