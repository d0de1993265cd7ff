/** Picks the codec for a protocol name; raw needs none. Telnet/RFC 2217 arrive in later slices. */
import type { Codec, CodecHost } from './codec.js';
import type { Protocol } from './server.js';

export function clientCodec(protocol: Protocol): ((host: CodecHost) => Codec) | undefined {
  if (protocol === 'raw') return undefined;
  return undefined;
}

export function serverCodec(protocol: Protocol, host: CodecHost): Codec {
  void protocol;
  void host;
  return { decode: (c) => c, encode: (c) => c, greeting: () => Buffer.alloc(0) };
}
