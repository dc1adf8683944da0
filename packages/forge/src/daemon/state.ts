/**
 * The daemon's own database (daemon.database, SQLite through better-sqlite3): what must
 * survive a restart or a crash of the daemon and is not the plugin store's business.
 *
 * - `tokens`: API bearer tokens, the secret stored only as its sha256 (tokens.ts);
 * - `desired`: the state each plugin should be in (running, paused, stopped), written
 *   after every lifecycle change the API makes, read at start-up to bring plugins back;
 * - `pending`: upgrades refused for want of permission approval, kept for an admin to
 *   approve or discard (pending.ts; the packages themselves are files beside the database).
 *
 * Durability: WAL with `synchronous = FULL`, so a change the API reported is on disk. The
 * schema version is `PRAGMA user_version`; a database written by a newer version is
 * refused rather than guessed at.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ForgeError, fromFsError } from '@forgeone/common';

/** The schema this code writes. */
const SCHEMA_VERSION = 2;

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE tokens (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
     secret_sha256 TEXT NOT NULL,
     created_at TEXT NOT NULL,
     expires_at TEXT,
     revoked_at TEXT,
     last_used_at TEXT
   );
   CREATE TABLE desired (
     plugin TEXT PRIMARY KEY,
     state TEXT NOT NULL CHECK (state IN ('running', 'paused', 'stopped')),
     updated_at TEXT NOT NULL
   );`,
  `CREATE TABLE pending (
     id TEXT PRIMARY KEY,
     sha256 TEXT NOT NULL UNIQUE,
     name TEXT NOT NULL,
     from_version TEXT NOT NULL,
     to_version TEXT NOT NULL,
     publisher TEXT NOT NULL,
     diff TEXT NOT NULL,
     options TEXT NOT NULL,
     received_at TEXT NOT NULL,
     received_by TEXT NOT NULL
   );`,
];

/** What a plugin should be doing when the daemon (re)starts. */
export type DesiredState = 'running' | 'paused' | 'stopped';

/** The open database. */
export class DaemonState {
  readonly db: Database.Database;
  readonly #setDesired: Database.Statement<[string, string, string]>;
  readonly #forget: Database.Statement<[string]>;
  readonly #desired: Database.Statement<[], { plugin: string; state: DesiredState }>;
  readonly #desiredOne: Database.Statement<[string], { state: DesiredState }>;

  private constructor(db: Database.Database) {
    this.db = db;
    this.#setDesired = db.prepare('INSERT INTO desired (plugin, state, updated_at) VALUES (?, ?, ?) ON CONFLICT (plugin) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at');
    this.#forget = db.prepare('DELETE FROM desired WHERE plugin = ?');
    this.#desired = db.prepare('SELECT plugin, state FROM desired ORDER BY plugin');
    this.#desiredOne = db.prepare('SELECT state FROM desired WHERE plugin = ?');
  }

  /**
   * Opens (creating, mode 0600 in a 0700 directory) and migrates the database.
   * @throws ForgeError FO_DAEMON_STATE_INVALID (a newer schema, or not a database), FO_IO_*
   */
  static open(file: string): DaemonState {
    try {
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    } catch (error) {
      throw fromFsError(error, 'create the daemon state directory', dirname(file));
    }
    let db: Database.Database;
    try {
      db = new Database(file);
      chmodSync(file, 0o600);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 2000');
    } catch (error) {
      throw stateError(file, 'cannot be opened as a SQLite database', error);
    }
    try {
      migrate(db, file);
    } catch (error) {
      db.close();
      throw error;
    }
    return new DaemonState(db);
  }

  /** Records what `plugin` should be doing; survives a crash once this returns. */
  setDesired(plugin: string, state: DesiredState, now: Date = new Date()): void {
    this.#setDesired.run(plugin, state, now.toISOString());
  }

  /** Forgets a plugin (uninstalled). */
  forget(plugin: string): void {
    this.#forget.run(plugin);
  }

  /** One plugin's desired state, if one was recorded. */
  desiredOf(plugin: string): DesiredState | undefined {
    return this.#desiredOne.get(plugin)?.state;
  }

  /** Every plugin's desired state, by name. */
  desired(): Map<string, DesiredState> {
    return new Map(this.#desired.all().map((row) => [row.plugin, row.state]));
  }

  close(): void {
    this.db.close();
  }
}

function migrate(db: Database.Database, file: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new ForgeError('FO_DAEMON_STATE_INVALID', `the daemon database ${file} has schema version ${version}; this forge reads up to ${SCHEMA_VERSION}`, {
      details: { file, version, supported: SCHEMA_VERSION },
    });
  }
  for (let next = version; next < SCHEMA_VERSION; next += 1) {
    db.transaction(() => {
      db.exec(MIGRATIONS[next] as string);
      db.pragma(`user_version = ${next + 1}`);
    })();
  }
}

function stateError(file: string, what: string, cause: unknown): ForgeError {
  return new ForgeError('FO_DAEMON_STATE_INVALID', `the daemon database ${file} ${what}: ${cause instanceof Error ? cause.message : String(cause)}`, { details: { file }, cause });
}
