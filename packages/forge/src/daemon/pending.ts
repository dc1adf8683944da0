/**
 * Pending upgrades: packages whose install was refused with FO_STORE_APPROVAL_REQUIRED
 * (they ask for permissions beyond the installed version's), kept so an admin can read
 * the permission diff and approve or discard them later, from another client.
 *
 * A row of the `pending` table (state.ts) describes each one; its bytes are a file
 * `<id>.forgepkg` (mode 0600) in a directory beside the daemon database (mode 0700). An
 * id is 16 random hex digits.
 *
 * SECURITY: what a client can store here is bounded: at most `max` packages (default
 * 20; past it the oldest is discarded), each no larger than an API request body
 * (daemon.max_request_size), and the same package uploaded again is the same entry
 * (keyed by its sha256). The bytes are checked against their sha256 when read back, so a
 * package changed on disk is refused rather than approved. Nothing here is trusted for
 * more than showing: an approval installs the bytes through the store, which verifies
 * them again like any upload.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { ForgeError, fromFsError } from '@forgeone/common';
import { Serial } from './serial.js';

/** A pending upgrade as the API lists it. */
export interface PendingUpgrade {
  readonly id: string;
  readonly name: string;
  /** The version installed when the package was offered. */
  readonly from: string;
  /** The version offered. */
  readonly to: string;
  readonly publisher: string;
  /** The permission difference (store.md's PermissionDiff). */
  readonly diff: unknown;
  readonly receivedAt: string;
  /** The principal that uploaded it. */
  readonly by: string;
}

/** The install options the upload asked for, applied again on approval. */
export interface HeldOptions {
  readonly allowDowngrade: boolean;
  readonly allowPublisherChange: boolean;
  readonly start: boolean;
}

/** A pending upgrade with its package. */
export interface PendingPackage {
  readonly upgrade: PendingUpgrade;
  readonly bytes: Buffer;
  readonly options: HeldOptions;
}

interface Row {
  id: string;
  sha256: string;
  name: string;
  from_version: string;
  to_version: string;
  publisher: string;
  diff: string;
  options: string;
  received_at: string;
  received_by: string;
}

/** The most pending upgrades kept. */
export const MAX_PENDING_UPGRADES = 20;

const SUFFIX = '.forgepkg';

function upgradeOf(row: Row): PendingUpgrade {
  return { id: row.id, name: row.name, from: row.from_version, to: row.to_version, publisher: row.publisher, diff: JSON.parse(row.diff) as unknown, receivedAt: row.received_at, by: row.received_by };
}

function notFound(id: string): ForgeError {
  return new ForgeError('FO_DAEMON_UPGRADE_NOT_FOUND', `no pending upgrade has the id ${JSON.stringify(id.slice(0, 40))}`, { details: { id: id.slice(0, 40) } });
}

function text(details: Readonly<Record<string, unknown>>, key: string): string {
  const value = details[key];
  if (typeof value !== 'string') throw new ForgeError('FO_INTERNAL_UNEXPECTED', `an approval refusal carries no ${key}`);
  return value;
}

/** See the module comment. */
export class PendingUpgrades {
  readonly #db: Database.Database;
  readonly #dir: string;
  readonly #max: number;
  readonly #clock: () => number;
  readonly #serial = new Serial();

  private constructor(db: Database.Database, dir: string, max: number, clock: () => number) {
    this.#db = db;
    this.#dir = dir;
    this.#max = max;
    this.#clock = clock;
  }

  /**
   * Opens the store of pending upgrades in `dir` (created, mode 0700), dropping rows
   * whose file is gone and files no row names (a crash between the two writes).
   * @throws ForgeError FO_IO_*
   */
  static open(db: Database.Database, dir: string, options: { readonly max?: number; readonly clock?: () => number } = {}): PendingUpgrades {
    let files: string[];
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      chmodSync(dir, 0o700);
      files = readdirSync(dir);
    } catch (error) {
      throw fromFsError(error, 'create the directory of pending upgrades', dir);
    }
    const ids = new Set((db.prepare('SELECT id FROM pending').all() as { id: string }[]).map((row) => row.id));
    for (const file of files) {
      if (!(file.endsWith(SUFFIX) && ids.has(file.slice(0, -SUFFIX.length)))) rmSync(join(dir, file), { force: true, recursive: true });
    }
    for (const id of ids) if (!files.includes(`${id}${SUFFIX}`)) db.prepare('DELETE FROM pending WHERE id = ?').run(id);
    return new PendingUpgrades(db, dir, options.max ?? MAX_PENDING_UPGRADES, options.clock ?? Date.now);
  }

  /**
   * Keeps `bytes`, refused with `refusal` (FO_STORE_APPROVAL_REQUIRED, whose details name
   * the plugin, the versions, the publisher and the diff); returns the entry's id. The
   * same bytes again update their entry (who, when, the diff) and keep its id.
   * @throws ForgeError FO_INTERNAL_UNEXPECTED (a refusal without those details), FO_IO_*
   */
  async keep(bytes: Uint8Array, refusal: ForgeError, by: string, options: HeldOptions): Promise<string> {
    const details = refusal.details;
    const fields = {
      name: text(details, 'name'),
      from_version: text(details, 'installed'),
      to_version: text(details, 'version'),
      publisher: text(details, 'publisher'),
      diff: JSON.stringify(details['diff'] ?? null),
      options: JSON.stringify(options),
      received_at: new Date(this.#clock()).toISOString(),
      received_by: by,
    };
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    return await this.#serial.run('pending', async () => {
      const existing = this.#db.prepare('SELECT id FROM pending WHERE sha256 = ?').get(sha256) as { id: string } | undefined;
      const id = existing?.id ?? randomBytes(8).toString('hex');
      await this.#write(id, bytes);
      this.#db
        .prepare(
          `INSERT INTO pending (id, sha256, name, from_version, to_version, publisher, diff, options, received_at, received_by)
           VALUES (@id, @sha256, @name, @from_version, @to_version, @publisher, @diff, @options, @received_at, @received_by)
           ON CONFLICT (id) DO UPDATE SET from_version = excluded.from_version, diff = excluded.diff, options = excluded.options,
             received_at = excluded.received_at, received_by = excluded.received_by`,
        )
        .run({ id, sha256, ...fields });
      const surplus = this.#db.prepare('SELECT id FROM pending ORDER BY received_at DESC, rowid DESC LIMIT -1 OFFSET ?').all(this.#max) as { id: string }[];
      for (const old of surplus) await this.#remove(old.id);
      return id;
    });
  }

  /** Every pending upgrade, newest first. */
  list(): PendingUpgrade[] {
    return (this.#db.prepare('SELECT * FROM pending ORDER BY received_at DESC, rowid DESC').all() as Row[]).map(upgradeOf);
  }

  /**
   * One pending upgrade with its package, checked against its sha256.
   * @throws ForgeError FO_DAEMON_UPGRADE_NOT_FOUND, FO_DAEMON_STATE_INVALID (the file is gone or changed), FO_IO_*
   */
  async read(id: string): Promise<PendingPackage> {
    const row = this.#db.prepare('SELECT * FROM pending WHERE id = ?').get(id) as Row | undefined;
    if (row === undefined) throw notFound(id);
    const file = this.#file(id);
    const bytes = await readFile(file).catch((error: unknown) => {
      throw new ForgeError('FO_DAEMON_STATE_INVALID', `the package of pending upgrade ${id} cannot be read: ${(error as Error).message}`, { details: { table: 'pending', id }, cause: error });
    });
    if (createHash('sha256').update(bytes).digest('hex') !== row.sha256) {
      throw new ForgeError('FO_DAEMON_STATE_INVALID', `the package of pending upgrade ${id} is not the one that was uploaded (its sha256 differs); discard it and upload it again`, {
        details: { table: 'pending', id },
      });
    }
    return { upgrade: upgradeOf(row), bytes, options: JSON.parse(row.options) as HeldOptions };
  }

  /**
   * Forgets a pending upgrade and removes its package.
   * @throws ForgeError FO_DAEMON_UPGRADE_NOT_FOUND, FO_IO_*
   */
  discard(id: string): Promise<void> {
    return this.#serial.run('pending', async () => {
      if (this.#db.prepare('SELECT id FROM pending WHERE id = ?').get(id) === undefined) throw notFound(id);
      await this.#remove(id);
    });
  }

  #file(id: string): string {
    return join(this.#dir, `${id}${SUFFIX}`);
  }

  /** Writes the package under a temporary name, then renames it: a reader never sees half a package. */
  async #write(id: string, bytes: Uint8Array): Promise<void> {
    const file = this.#file(id);
    const temp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(temp, bytes, { mode: 0o600, flag: 'wx' });
      await rename(temp, file);
    } catch (error) {
      await rm(temp, { force: true });
      throw fromFsError(error, 'keep a pending upgrade', file);
    }
  }

  async #remove(id: string): Promise<void> {
    this.#db.prepare('DELETE FROM pending WHERE id = ?').run(id);
    await rm(this.#file(id), { force: true });
  }
}
