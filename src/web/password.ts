/**
 * The web listener's password, for browsers that carry no client certificate. Only an scrypt hash is
 * ever stored (`scrypt$N$r$p$SALT$HASH`, base64): the config and its backups give an attacker a slow
 * offline guess per candidate, never the password.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { UsageError } from '../errors.js';

const KEY_BYTES = 32;
/** 2^15 × 8 × 128 B = 32 MiB and ~50-100 ms per check on a small board: slow for a guesser, fine for a login. */
const DEFAULTS = { N: 1 << 15, r: 8, p: 1 };
const MAX_PASSWORD_BYTES = 1024;

export class PasswordHashError extends UsageError {}

interface Parsed {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

function derive(password: string, salt: Buffer, o: { N: number; r: number; p: number }): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, KEY_BYTES, { N: o.N, r: o.r, p: o.p, maxmem: 256 * o.N * o.r + (1 << 20) }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export async function hashPassword(password: string): Promise<string> {
  if (password.length === 0) throw new PasswordHashError('the password is empty');
  if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES) throw new PasswordHashError(`the password is longer than ${MAX_PASSWORD_BYTES} bytes`);
  const salt = randomBytes(16);
  const key = await derive(password, salt, DEFAULTS);
  return `scrypt$${DEFAULTS.N}$${DEFAULTS.r}$${DEFAULTS.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Checks the text of a stored hash; `field` names where it came from in the error. */
export function parsePasswordHash(text: string, field: string): Parsed {
  const m = /^scrypt\$(\d{1,8})\$(\d{1,3})\$(\d{1,3})\$([A-Za-z0-9+/=]{16,})\$([A-Za-z0-9+/=]{40,})$/.exec(text.trim());
  const bad = (why: string) => new PasswordHashError(`${field}: ${why} (allowed: the line \`laplink web hash-password\` prints)`);
  if (!m) throw bad('not an scrypt hash');
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (N < 1024 || N > 1 << 20 || (N & (N - 1)) !== 0) throw bad(`cost N=${N} is not a power of two in 1024-1048576`);
  if (r < 1 || r > 32 || p < 1 || p > 16) throw bad(`r=${r} p=${p} out of range`);
  const hash = Buffer.from(m[5]!, 'base64');
  if (hash.length !== KEY_BYTES) throw bad(`the hash is ${hash.length} bytes, not ${KEY_BYTES}`);
  return { N, r, p, salt: Buffer.from(m[4]!, 'base64'), hash };
}

export class PasswordCheck {
  private readonly parsed: Parsed;
  constructor(hashText: string, field: string) {
    this.parsed = parsePasswordHash(hashText, field);
  }

  async matches(password: string): Promise<boolean> {
    if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES) return false;
    const key = await derive(password, this.parsed.salt, this.parsed);
    return timingSafeEqual(key, this.parsed.hash);
  }
}
