/**
 * Words for pppd's secrets files (pap-secrets, chap-secrets). pppd reads them with getword()
 * (pppd/options.c): whitespace separates words, `#` starts a comment, '…' or "…" quote, and a
 * backslash escapes the next character everywhere — also inside quotes, where `\n`, `\t`, `\s`,
 * octal and `\x` sequences are decoded. So the inverse is: double quotes around the text, and a
 * backslash before every `\` and `"` inside. Nothing else needs escaping because the schema keeps
 * control characters out of secrets.
 */
export function quoteSecretWord(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

export interface SecretEntry {
  /** PAP/CHAP user name (`*` = anyone). */
  client: string;
  /** Server name (`*` = any). */
  server: string;
  /** The secret text, or `{ file }` for pppd's `@/path` form (secret read from that file). */
  secret: string | { file: string };
  /** Addresses the client may use; empty = any. */
  ips: string[];
}

/** One secrets-file line: client, server, quoted secret, allowed addresses. */
export function secretsLine(e: SecretEntry): string {
  const secret = typeof e.secret === 'string' ? quoteSecretWord(e.secret) : `@${e.secret.file}`;
  return [e.client, e.server, secret, ...e.ips].join('\t');
}
