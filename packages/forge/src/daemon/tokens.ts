/**
 * API bearer tokens: `fo_<id>_<secret>`, where `id` (16 hex digits) names the token and
 * `secret` (32 random bytes, base64url) proves it. Only the sha256 of the secret is
 * stored; a token is shown once, when it is created. Each token has a role: `viewer`
 * reads, `operator` also drives lifecycles and calls plugins, `admin` also installs,
 * removes and upgrades plugins and manages tokens.
 *
 * SECURITY: secrets are compared in constant time; a malformed, unknown, expired or
 * revoked token gets the same answer (FO_DAEMON_UNAUTHENTICATED), so the API does not
 * tell an attacker which ids exist.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type Database from 'better-sqlite3';
import { ForgeError } from '@forgeone/common';

/** The roles, from the least to the most trusted. */
export const ROLES = ['viewer', 'operator', 'admin'] as const;

/** One of {@link ROLES}. */
export type Role = (typeof ROLES)[number];

/** True when `held` includes everything `needed` allows. */
export function roleAllows(held: Role, needed: Role): boolean {
  return ROLES.indexOf(held) >= ROLES.indexOf(needed);
}

/** A token as listed (never its secret). */
export interface TokenInfo {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly revokedAt: string | null;
  readonly lastUsedAt: string | null;
}

/** A token as created: its one-time secret text and its description. */
export interface CreatedToken {
  readonly token: string;
  readonly info: TokenInfo;
}

interface Row {
  id: string;
  name: string;
  role: Role;
  secret_sha256: string;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
}

const TOKEN = /^fo_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const NAME = /^[\x21-\x7e](?:[\x20-\x7e]{0,62}[\x21-\x7e])?$/;
/** How often a token's last use is written back (a write per request would fsync per request). */
const LAST_USED_GRANULARITY_MS = 60_000;

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function info(row: Row): TokenInfo {
  return { id: row.id, name: row.name, role: row.role, createdAt: row.created_at, expiresAt: row.expires_at, revokedAt: row.revoked_at, lastUsedAt: row.last_used_at };
}

function unauthenticated(): ForgeError {
  return new ForgeError('FO_DAEMON_UNAUTHENTICATED', 'expected a valid bearer token (Authorization: Bearer fo_...), found none, or one that is malformed, unknown, expired or revoked');
}

/** The token table of the daemon's database. */
export class Tokens {
  readonly #db: Database.Database;
  readonly #clock: () => number;
  readonly #lastWritten = new Map<string, number>();

  constructor(db: Database.Database, clock: () => number = Date.now) {
    this.#db = db;
    this.#clock = clock;
  }

  /**
   * Creates a token.
   * @param expiresInMs lifetime from now; undefined: until revoked
   * @throws ForgeError FO_DAEMON_BAD_REQUEST for a name that is not 1-64 printable ASCII characters or an unknown role
   */
  create(name: string, role: Role, expiresInMs?: number): CreatedToken {
    if (!NAME.test(name)) throw new ForgeError('FO_DAEMON_BAD_REQUEST', `a token name must be 1-64 printable ASCII characters without leading or trailing spaces, found ${JSON.stringify(name.slice(0, 80))}`);
    if (!ROLES.includes(role)) throw new ForgeError('FO_DAEMON_BAD_REQUEST', `a token role must be one of ${ROLES.join(', ')}, found ${JSON.stringify(String(role).slice(0, 40))}`);
    const id = randomBytes(8).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const now = this.#clock();
    const row: Row = {
      id,
      name,
      role,
      secret_sha256: sha256Hex(secret),
      created_at: new Date(now).toISOString(),
      expires_at: expiresInMs === undefined ? null : new Date(now + expiresInMs).toISOString(),
      revoked_at: null,
      last_used_at: null,
    };
    this.#db
      .prepare('INSERT INTO tokens (id, name, role, secret_sha256, created_at, expires_at, revoked_at, last_used_at) VALUES (@id, @name, @role, @secret_sha256, @created_at, @expires_at, @revoked_at, @last_used_at)')
      .run(row);
    return { token: `fo_${id}_${secret}`, info: info(row) };
  }

  /**
   * The token `text` proves, if it is valid now.
   * @throws ForgeError FO_DAEMON_UNAUTHENTICATED (malformed, unknown, expired, revoked: one answer for all)
   */
  verify(text: string): TokenInfo {
    const match = TOKEN.exec(text);
    if (match === null) throw unauthenticated();
    const [, id, secret] = match as unknown as [string, string, string];
    const row = this.#db.prepare('SELECT * FROM tokens WHERE id = ?').get(id) as Row | undefined;
    // Hash even when the id is unknown, so both answers take the same time.
    const presented = Buffer.from(sha256Hex(secret), 'hex');
    const stored = Buffer.from(row?.secret_sha256 ?? '0'.repeat(64), 'hex');
    const matches = timingSafeEqual(presented, stored);
    const now = this.#clock();
    if (row === undefined || !matches || row.revoked_at !== null || (row.expires_at !== null && Date.parse(row.expires_at) <= now)) throw unauthenticated();
    if (now - (this.#lastWritten.get(id) ?? 0) >= LAST_USED_GRANULARITY_MS) {
      this.#lastWritten.set(id, now);
      this.#db.prepare('UPDATE tokens SET last_used_at = ? WHERE id = ?').run(new Date(now).toISOString(), id);
    }
    return info(row);
  }

  /** Every token, newest first. */
  list(): TokenInfo[] {
    return (this.#db.prepare('SELECT * FROM tokens ORDER BY created_at DESC, id').all() as Row[]).map(info);
  }

  /**
   * Revokes a token; its next request is refused. Revoking twice is not an error.
   * @throws ForgeError FO_DAEMON_TOKEN_NOT_FOUND
   */
  revoke(id: string): TokenInfo {
    const row = this.#db.prepare('SELECT * FROM tokens WHERE id = ?').get(id) as Row | undefined;
    if (row === undefined) throw new ForgeError('FO_DAEMON_TOKEN_NOT_FOUND', `no API token has the id ${JSON.stringify(id.slice(0, 40))}`, { details: { id: id.slice(0, 40) } });
    if (row.revoked_at === null) {
      row.revoked_at = new Date(this.#clock()).toISOString();
      this.#db.prepare('UPDATE tokens SET revoked_at = ? WHERE id = ?').run(row.revoked_at, id);
    }
    return info(row);
  }
}
