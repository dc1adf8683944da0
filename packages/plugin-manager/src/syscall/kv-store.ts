/**
 * One plugin's durable key-value store: a SQLite database (better-sqlite3) in the
 * directory the host gives it, usually `<plugin_directory>/<plugin name>/kv.sqlite`.
 *
 * Durability: WAL journal with `synchronous = FULL`, so every committed write has been
 * fsynced to the WAL before the call returns and survives a crash of the process or
 * the machine; a half-written transaction is rolled back when the store is opened
 * again. Keys and values are BLOBs, so values are binary-safe and keys sort by their
 * bytes (kv_list pages in that order).
 *
 * Quotas: the sum of every key's and value's length is kept in a row updated in the
 * same transaction as the data, so it can never drift from what is stored, and a
 * write that would pass the quota changes nothing. A write that shrinks the store is
 * always allowed, even above a quota that was lowered since.
 */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ForgeError } from '@forgeone/common';
import type { KvLimits } from './limits.js';

/** The database's file name inside the plugin's directory. */
export const KV_FILE_NAME = 'kv.sqlite';

/** How long a write waits for a lock another process holds before failing, in ms. */
const BUSY_TIMEOUT_MS = 2000;

/** What a store holds. */
export interface KvUsage {
  /** Number of keys. */
  readonly keys: number;
  /** Sum of the byte lengths of every key and value. */
  readonly bytes: number;
}

/** One page of keys. */
export interface KvPage {
  /** Keys in byte order, each a copy. */
  readonly keys: Uint8Array[];
  /** True when more keys follow the last one. */
  readonly more: boolean;
}

interface UsageRow {
  keys: number;
  bytes: number;
}

/** A plugin's store. Synchronous, like the guest calls it serves. */
export class KvStore {
  readonly #db: Database.Database;
  readonly #limits: KvLimits;
  readonly #get: Database.Statement<[Uint8Array], { value: Buffer }>;
  readonly #length: Database.Statement<[Uint8Array], { length: number }>;
  readonly #put: Database.Statement<[Uint8Array, Uint8Array]>;
  readonly #remove: Database.Statement<[Uint8Array], { length: number }>;
  readonly #usage: Database.Statement<[], UsageRow>;
  readonly #adjust: Database.Statement<[number, number]>;
  readonly #listFrom: Database.Statement<[Uint8Array, Uint8Array, number], { key: Buffer }>;
  readonly #listRange: Database.Statement<[Uint8Array, Uint8Array, Uint8Array, number], { key: Buffer }>;
  readonly #set: (key: Uint8Array, value: Uint8Array) => void;
  readonly #delete: (key: Uint8Array) => boolean;

  private constructor(db: Database.Database, limits: KvLimits) {
    this.#db = db;
    this.#limits = limits;
    this.#get = db.prepare('SELECT value FROM kv WHERE key = ?');
    this.#length = db.prepare('SELECT length(key) + length(value) AS length FROM kv WHERE key = ?');
    this.#put = db.prepare('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
    this.#remove = db.prepare('DELETE FROM kv WHERE key = ? RETURNING length(key) + length(value) AS length');
    this.#usage = db.prepare('SELECT keys, bytes FROM usage WHERE id = 1');
    this.#adjust = db.prepare('UPDATE usage SET keys = keys + ?, bytes = bytes + ? WHERE id = 1');
    this.#listFrom = db.prepare('SELECT key FROM kv WHERE key >= ? AND key > ? ORDER BY key LIMIT ?');
    this.#listRange = db.prepare('SELECT key FROM kv WHERE key >= ? AND key > ? AND key < ? ORDER BY key LIMIT ?');
    // IMMEDIATE takes the write lock before reading the usage row, so two processes
    // sharing a store (the host and an operator tool) cannot both pass the quota.
    const set = db.transaction((key: Uint8Array, value: Uint8Array) => {
        const old = this.#length.get(key)?.length;
        const size = key.length + value.length;
        const delta = size - (old ?? 0);
        const usage = this.#usage.get() as UsageRow;
        if (delta > 0 && usage.bytes + delta > this.#limits.maxTotalBytes) {
          throw new ForgeError(
            'FO_SYSCALL_KV_QUOTA_EXCEEDED',
            `the plugin's key-value store holds ${usage.bytes} of its ${this.#limits.maxTotalBytes} bytes; storing ${size} bytes under this key needs ${delta} more`,
            { details: { used: usage.bytes, limit: this.#limits.maxTotalBytes, needed: delta } },
          );
        }
        this.#put.run(key, value);
        this.#adjust.run(old === undefined ? 1 : 0, delta);
      });
    this.#set = (key, value) => set.immediate(key, value);
    const remove = db.transaction((key: Uint8Array) => {
        const removed = this.#remove.get(key);
        if (removed === undefined) return false;
        this.#adjust.run(-1, -removed.length);
        return true;
      });
    this.#delete = (key) => remove.immediate(key);
  }

  /**
   * Opens (creating when needed) the store in `directory`. The directory is created
   * with mode 0700 and the database file with 0600: other local users read nothing.
   *
   * @throws ForgeError FO_SYSCALL_KV_UNAVAILABLE when the directory or database cannot
   *   be created or opened, or the file is not a ForgeOne key-value store
   */
  static open(directory: string, limits: KvLimits): KvStore {
    const path = join(directory, KV_FILE_NAME);
    let db: Database.Database | undefined;
    try {
      mkdirSync(directory, { recursive: true, mode: 0o700 });
      // Create the file ourselves so it gets 0600; SQLite gives its WAL the same mode.
      closeSync(openSync(path, 'a', 0o600));
      db = new Database(path, { fileMustExist: true });
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      db.pragma('trusted_schema = OFF');
      db.exec(`
        BEGIN IMMEDIATE;
        CREATE TABLE IF NOT EXISTS kv (key BLOB PRIMARY KEY NOT NULL, value BLOB NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS usage (id INTEGER PRIMARY KEY CHECK (id = 1), keys INTEGER NOT NULL, bytes INTEGER NOT NULL);
        INSERT OR IGNORE INTO usage (id, keys, bytes)
          SELECT 1, count(*), coalesce(sum(length(key) + length(value)), 0) FROM kv;
        COMMIT;
      `);
      return new KvStore(db, limits);
    } catch (error) {
      db?.close();
      throw kvUnavailable(error, 'open');
    }
  }

  /**
   * The value under `key` (a copy), or undefined.
   * @throws ForgeError FO_SYSCALL_KV_UNAVAILABLE
   */
  get(key: Uint8Array): Uint8Array | undefined {
    return this.#run('read', () => this.#get.get(key)?.value);
  }

  /**
   * Stores `value` under `key`, replacing any value there; durable when it returns.
   * Sizes against the per-key and per-value limits are the caller's check.
   *
   * @throws ForgeError FO_SYSCALL_KV_QUOTA_EXCEEDED (nothing written), FO_SYSCALL_KV_NO_SPACE
   *   (nothing written), FO_SYSCALL_KV_UNAVAILABLE
   */
  set(key: Uint8Array, value: Uint8Array): void {
    this.#run('write', () => this.#set(key, value));
  }

  /**
   * Removes `key`.
   * @returns true when it was there
   * @throws ForgeError FO_SYSCALL_KV_UNAVAILABLE
   */
  delete(key: Uint8Array): boolean {
    return this.#run('write', () => this.#delete(key));
  }

  /**
   * Keys starting with `prefix`, in byte order, after `after` (exclusive; empty to
   * start at the beginning), at most `limit` of them.
   *
   * @throws ForgeError FO_SYSCALL_KV_UNAVAILABLE
   */
  list(prefix: Uint8Array, after: Uint8Array, limit: number): KvPage {
    const upper = prefixEnd(prefix);
    const rows = this.#run('read', () =>
      upper === undefined ? this.#listFrom.all(prefix, after, limit + 1) : this.#listRange.all(prefix, after, upper, limit + 1),
    );
    const more = rows.length > limit;
    return { keys: rows.slice(0, limit).map((row) => row.key), more };
  }

  /**
   * Keys and bytes stored.
   * @throws ForgeError FO_SYSCALL_KV_UNAVAILABLE
   */
  usage(): KvUsage {
    const row = this.#run('read', () => this.#usage.get() as UsageRow);
    return { keys: row.keys, bytes: row.bytes };
  }

  /** Closes the database (checkpointing the WAL). Idempotent. */
  close(): void {
    if (this.#db.open) this.#db.close();
  }

  #run<T>(what: 'read' | 'write', work: () => T): T {
    try {
      return work();
    } catch (error) {
      throw kvUnavailable(error, what);
    }
  }
}

/**
 * The smallest byte string greater than every string starting with `prefix`, or
 * undefined when there is none (an empty prefix, or one of only 0xFF bytes).
 */
export function prefixEnd(prefix: Uint8Array): Uint8Array | undefined {
  let end = prefix.length;
  while (end > 0 && prefix[end - 1] === 0xff) end -= 1;
  if (end === 0) return undefined;
  const out = prefix.slice(0, end);
  out[end - 1] = (out[end - 1] as number) + 1;
  return out;
}

/** SQLite's and the file system's names for a full disk. */
const NO_SPACE = new Set(['SQLITE_FULL', 'ENOSPC', 'EDQUOT']);

/**
 * A ForgeError passes through; a full disk becomes FO_SYSCALL_KV_NO_SPACE (the
 * transaction was rolled back, so nothing changed); any other SQLite or file-system
 * failure FO_SYSCALL_KV_UNAVAILABLE.
 */
function kvUnavailable(error: unknown, what: 'open' | 'read' | 'write'): ForgeError {
  if (error instanceof ForgeError) return error;
  const code = typeof (error as { code?: unknown } | undefined)?.code === 'string' ? (error as { code: string }).code : 'UNKNOWN';
  if (NO_SPACE.has(code)) {
    return new ForgeError('FO_SYSCALL_KV_NO_SPACE', `the plugin's key-value store could not ${what === 'open' ? 'be opened' : what}: the disk holding it is full (${code}); nothing was changed`, {
      details: { code, operation: what },
      cause: error,
    });
  }
  // SECURITY: the message reaches the guest; it names the failure, not host paths.
  return new ForgeError('FO_SYSCALL_KV_UNAVAILABLE', `the plugin's key-value store could not ${what === 'open' ? 'be opened' : `${what}`} (${code})`, {
    details: { code, operation: what, error: error instanceof Error ? error.message : String(error) },
    cause: error,
  });
}
