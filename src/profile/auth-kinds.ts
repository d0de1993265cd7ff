/** Authentication protocols pppd 2.4.9 speaks; every CHAP kind reads chap-secrets. */
export const AUTH_KINDS = ['pap', 'chap', 'mschap', 'mschap-v2'] as const;
export type AuthKind = (typeof AUTH_KINDS)[number];
