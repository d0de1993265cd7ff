/** Picks the codec for a protocol name; raw needs none (the hot path skips codecs entirely). */
import type { Codec, CodecHost } from './codec.js';
import { Rfc2217Client } from './rfc2217-client.js';
import { Rfc2217Server } from './rfc2217.js';
import type { Protocol } from './server.js';
import { telnetClient, telnetServer } from './telnet.js';

export function clientCodec(protocol: Protocol): ((host: CodecHost) => Codec) | undefined {
  if (protocol === 'telnet') return (h) => telnetClient(h);
  if (protocol === 'rfc2217') return (h) => new Rfc2217Client(h);
  return undefined;
}

export function serverCodec(protocol: Protocol, host: CodecHost): Codec {
  if (protocol === 'rfc2217') return new Rfc2217Server(host);
  return telnetServer(host);
}
