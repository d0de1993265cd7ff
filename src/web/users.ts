/**
 * Who may log in to the pages, and who writes on a console, as the `web:` section names them:
 *
 *   users:
 *     - { name: alice, passwordHash: "scrypt$…", write: always }   # takes the seat whenever she connects
 *     - { name: bob, passwordHash: "scrypt$…" }                     # write: when-free (the default)
 *     - { name: auditor, passwordHash: "scrypt$…", write: never }   # reads only
 *
 * conserver's rw/ro lists and ser2net's one-writer ports in one rule per user. A client certificate
 * whose CN is a user's name is that user; a user without a passwordHash can only be that. The older
 * single `passwordHash` stays: it logs in a session with no name, which writes when the seat is free.
 */
import { PasswordCheck } from './password.js';

export const WRITE_POLICIES = ['always', 'when-free', 'never'] as const;
export type WritePolicy = (typeof WRITE_POLICIES)[number];

export interface WebUserSettings {
  name: string;
  passwordHash?: string;
  write: WritePolicy;
}

/** A page's user as the consoles see it. */
export interface WebUser {
  name: string;
  write: WritePolicy;
}

/** Stands in for an unknown name's hash, so a wrong name costs the same scrypt as a wrong password
 *  (no telling which names exist by the time an answer takes). */
const DECOY = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

interface Entry {
  settings: WebUserSettings;
  check?: PasswordCheck;
}

export class UserBook {
  private readonly byName = new Map<string, Entry>();
  private readonly shared?: PasswordCheck;
  private readonly decoy = new PasswordCheck(DECOY, 'decoy');

  private readonly sharedHash?: string;

  /** `field`s name where each hash came from, for errors (`web.users`, `--password-hash-file`). */
  constructor(users: readonly WebUserSettings[], shared?: { hash: string; field: string }, usersField = 'web.users') {
    users.forEach((u, i) => this.byName.set(u.name, { settings: u, check: u.passwordHash ? new PasswordCheck(u.passwordHash, `${usersField}.${i}.passwordHash`) : undefined }));
    this.sharedHash = shared?.hash.trim();
    this.shared = shared ? new PasswordCheck(shared.hash, shared.field) : undefined;
  }

  /** The book holds this name (a certificate with it as CN is that user, no password asked). */
  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** A page must log in with a password (else: loopback, or client certificates decide). */
  get needsLogin(): boolean {
    return this.shared !== undefined || [...this.byName.values()].some((e) => e.check);
  }

  /** The user a name and password log in as, or undefined; `name` empty: the shared password. */
  async logIn(name: string, password: string): Promise<string | undefined> {
    if (!name) return this.shared && (await this.shared.matches(password)) ? '' : undefined;
    const entry = this.byName.get(name);
    if (!entry?.check) {
      await this.decoy.matches(password);
      return undefined;
    }
    return (await entry.check.matches(password)) ? name : undefined;
  }

  /** What a login made under `before` still is under this book: undefined when it is no longer let
   *  in (its user gone or its password changed). `name` empty: the shared password's session. */
  stillLoggedIn(name: string, before: UserBook): boolean {
    if (!name) return this.sharedHash !== undefined && this.sharedHash === before.sharedHash;
    const now = this.byName.get(name)?.settings.passwordHash;
    return now !== undefined && now === before.byName.get(name)?.settings.passwordHash;
  }

  /** The user a session is: by its login name or its certificate's CN; a name the book does not
   *  hold writes when the seat is free. */
  user(name: string): WebUser {
    return { name, write: this.byName.get(name)?.settings.write ?? 'when-free' };
  }
}
