/**
 * Text that reaches the operator's terminal from outside: pppd's lines in the state file carry what
 * the peer sent (a TermReq message, a user name), the control port names clients and devices. A
 * control character there (ESC, CSI) would be a command to the terminal, so every string of the view
 * has them shown as \xNN instead, once, where the view is built.
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

export function printable(text: string): string {
  return text.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** A copy of a JSON-shaped value with every string made printable. */
export function printableDeep<T>(value: T): T {
  if (typeof value === 'string') return printable(value) as T;
  if (Array.isArray(value)) return value.map((v) => printableDeep(v)) as T;
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [printable(k), printableDeep(v)])) as T;
  return value;
}
