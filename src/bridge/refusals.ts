/**
 * The texts a bridge port sends a client it turns away, before closing (ser2net's wording). One
 * table, so the server that sends them and `bridge stdio`, which must recognise them rather than
 * hand them to pppd as line data, cannot drift apart.
 */
export const REFUSALS = {
  inUse: 'Port already in use\r\n',
  unavailable: 'Device unavailable\r\n',
  disabled: 'Port disabled\r\n',
  allInUse: 'All ports in use\r\n',
} as const;

const texts = Object.values(REFUSALS).map((t) => Buffer.from(t, 'latin1'));

/**
 * Holds a session's first bytes from the server while they could still be a refusal. `push`
 * returns the bytes to pass on (empty while holding); `refusal` is the full refusal text received
 * so far, if any, which counts only when the connection then closes. Anything else opens the gate
 * at once: a PPP peer's first byte (0x7e) never starts a refusal.
 */
export class RefusalGate {
  private held: Buffer | undefined = Buffer.alloc(0);
  refusal: string | undefined;

  push(chunk: Buffer): Buffer {
    if (!this.held) return chunk;
    const seen = Buffer.concat([this.held, chunk]);
    const match = texts.find((t) => t.length >= seen.length && t.subarray(0, seen.length).equals(seen));
    if (match) {
      this.held = seen;
      this.refusal = match.length === seen.length ? match.toString('latin1').trim() : undefined;
      return Buffer.alloc(0);
    }
    this.held = undefined;
    this.refusal = undefined;
    return seen;
  }

  /** What is still held when the connection ends without a full refusal (line data after all). */
  flush(): Buffer {
    const rest = this.held ?? Buffer.alloc(0);
    this.held = undefined;
    return rest;
  }
}
