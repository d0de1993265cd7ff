/** chat's two ways of showing received or sent bytes as text. */

/** chat.c character(): one byte as `^X`, `^?`, `M-x`. */
export function character(c: number): string {
  const meta = c & 0x80 ? 'M-' : '';
  c &= 0x7f;
  if (c < 32) return `${meta}^${String.fromCharCode(c + 64)}`;
  if (c === 127) return `${meta}^?`;
  return meta + String.fromCharCode(c);
}

/**
 * chat's `%v` format: bytes ≥ 0x80 get `M-` and lose the high bit, control bytes (and 0x7f) become
 * `^X` (c ^ 0x40), tab stays a tab. Stops at the first NUL unless `exact` (the `%0.*v` form).
 */
export function visible(b: Buffer | Uint8Array, exact = false): string {
  let out = '';
  for (let c of b) {
    if (c === 0 && !exact) break;
    if (c >= 0x80) {
      out += 'M-';
      c -= 0x80;
    }
    if (c < 0x20 || c === 0x7f) out += c === 9 ? '\t' : '^' + String.fromCharCode(c ^ 0x40);
    else out += String.fromCharCode(c);
  }
  return out;
}
