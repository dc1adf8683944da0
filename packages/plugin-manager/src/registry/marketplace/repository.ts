/**
 * A marketplace repository on disk: role keys, settings, the working index, and the
 * published TUF metadata and targets that `forge marketplace serve` (or any static web
 * server) serves.
 *
 * ```
 * DIR/repository.json          settings: expiry per role
 * DIR/keys/<role>.pem          Ed25519 role keys, PKCS#8, mode 0600 in a 0700 directory
 * DIR/index.json               the current index (what the next publish starts from)
 * DIR/public/metadata/         N.root.json, root.json, N.targets.json, N.snapshot.json, timestamp.json
 * DIR/public/targets/          <sha256>.index.json
 * ```
 *
 * Consistent snapshots: every targets and snapshot version is a new file, so a client in
 * the middle of an update never reads files of two publishes; timestamp.json, written
 * last and atomically, is what makes a publish visible. Publishing needs the targets,
 * snapshot and timestamp keys only: the root key can (and should) live offline.
 */
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ForgeError, fromFsError } from '@forgeone/common';
import { writeNewFile } from '../../attestation/index.js';
import { emptyIndex, parseIndex, serializeIndex, type MarketplaceIndex } from './index-format.js';
import { ROLES, fileInfo, generateRoleKey, roleKeyFromPem, roleKeyPem, rootSigned, signMetadata, tufTime, type Role, type RoleKey } from './tuf-metadata.js';

const DAY = 24 * 3_600_000;

/** How long each role's metadata stays valid after it is signed, in ms. */
export interface RepositoryExpiry {
  readonly root: number;
  readonly targets: number;
  readonly snapshot: number;
  readonly timestamp: number;
}

/** Default expiries: root 1 year, targets 90 days, snapshot 30 days, timestamp 7 days (publish at least weekly). */
export const DEFAULT_EXPIRY: RepositoryExpiry = { root: 365 * DAY, targets: 90 * DAY, snapshot: 30 * DAY, timestamp: 7 * DAY };

/** Paths inside a repository directory. */
export const REPOSITORY_LAYOUT = {
  settings: 'repository.json',
  keys: 'keys',
  index: 'index.json',
  published: 'public',
  metadata: join('public', 'metadata'),
  targets: join('public', 'targets'),
} as const;

/** The name of the one target every marketplace publishes. */
export const INDEX_TARGET = 'index.json';

const SETTINGS_FORMAT = 'forgeone.marketplace.repository/v1';

/** Options of {@link initRepository} and {@link publishIndex}. */
export interface RepositoryOptions {
  /** Signing time, ms since the epoch; expiries count from it. Default: now. */
  readonly now?: number;
}

/** What {@link initRepository} made. */
export interface InitResult {
  /** public/metadata/1.root.json: the file clients pin. */
  readonly rootFile: string;
  readonly published: string;
  readonly keyids: Readonly<Record<Role, string>>;
}

/**
 * Creates a repository: four role keys, root.json version 1 (threshold 1 per role,
 * consistent snapshots), and a first publish of an empty index.
 *
 * @throws ForgeError FO_MARKET_REPOSITORY_EXISTS when DIR already holds repository.json, FO_IO_*
 */
export async function initRepository(dir: string, options: RepositoryOptions & { readonly expiry?: Partial<RepositoryExpiry> } = {}): Promise<InitResult> {
  const expiry = { ...DEFAULT_EXPIRY, ...options.expiry };
  const now = options.now ?? Date.now();
  await mkdirs(dir);
  try {
    await writeNewFile(join(dir, REPOSITORY_LAYOUT.settings), `${JSON.stringify({ format: SETTINGS_FORMAT, expiry }, null, 2)}\n`);
  } catch (error) {
    if (ForgeError.is(error, 'FO_IO_EXISTS')) throw new ForgeError('FO_MARKET_REPOSITORY_EXISTS', `${dir} already holds a marketplace repository (${REPOSITORY_LAYOUT.settings}); choose an empty directory`, { details: { dir }, cause: error });
    throw error;
  }
  const keys = Object.fromEntries(ROLES.map((role) => [role, generateRoleKey()])) as Record<Role, RoleKey>;
  for (const role of ROLES) await writeNewFile(join(dir, REPOSITORY_LAYOUT.keys, `${role}.pem`), roleKeyPem(keys[role]), { mode: 0o600 });
  const root = signMetadata('root', rootSigned({ version: 1, expires: now + expiry.root, keys }), [keys.root]);
  const rootFile = join(dir, REPOSITORY_LAYOUT.metadata, '1.root.json');
  await writeNewFile(rootFile, root);
  await writeNewFile(join(dir, REPOSITORY_LAYOUT.metadata, 'root.json'), root);
  await writeNewFile(join(dir, REPOSITORY_LAYOUT.index), serializeIndex(emptyIndex()));
  await publishIndex(dir, (index) => index, { now });
  return { rootFile, published: join(dir, REPOSITORY_LAYOUT.published), keyids: Object.fromEntries(ROLES.map((role) => [role, keys[role].keyid])) as Record<Role, string> };
}

async function mkdirs(dir: string): Promise<void> {
  for (const [sub, mode] of [['', 0o755], [REPOSITORY_LAYOUT.keys, 0o700], [REPOSITORY_LAYOUT.metadata, 0o755], [REPOSITORY_LAYOUT.targets, 0o755]] as const) {
    const path = join(dir, sub);
    await mkdir(path, { recursive: true, mode }).catch((error: unknown) => {
      throw fromFsError(error, 'create the repository directory', path);
    });
  }
}

/** What {@link publishIndex} signed. */
export interface PublishResult {
  readonly index: MarketplaceIndex;
  /** The new versions of targets, snapshot and timestamp metadata. */
  readonly versions: { readonly targets: number; readonly snapshot: number; readonly timestamp: number };
  /** sha256 of the published index.json, hex. */
  readonly indexSha256: string;
}

/**
 * Publishes a new version of the index: `update` maps the current index to the next
 * (throwing to abort); the result is validated, written as a target, and targets,
 * snapshot and timestamp metadata are signed at the next version each. An `update`
 * returning the index unchanged re-signs it with fresh expiries (what a periodic
 * publish does to keep the timestamp alive).
 *
 * @throws ForgeError FO_MARKET_REPOSITORY_INVALID (no repository, a key or metadata
 *   missing or unreadable, a publish already running), FO_MARKET_INDEX_INVALID (the
 *   updated index breaks the format), whatever `update` throws, FO_IO_*
 */
export async function publishIndex(dir: string, update: (index: MarketplaceIndex) => MarketplaceIndex, options: RepositoryOptions = {}): Promise<PublishResult> {
  const release = await lock(dir);
  try {
    const current = parseIndex(await readRepositoryFile(dir, REPOSITORY_LAYOUT.index), REPOSITORY_LAYOUT.index);
    const index = parseIndex(serializeIndex(update(current)), 'the updated index');
    return { index, ...(await signRelease(dir, serializeIndex(index), options.now ?? Date.now())) };
  } finally {
    await release();
  }
}

/**
 * Publishes `bytes` as index.json without checking them: for tests that need a
 * correctly signed but malformed index. Not exported from the package.
 *
 * @throws ForgeError the codes of {@link publishIndex} but FO_MARKET_INDEX_INVALID
 */
export async function publishRawIndex(dir: string, bytes: Uint8Array, options: RepositoryOptions = {}): Promise<Omit<PublishResult, 'index'>> {
  const release = await lock(dir);
  try {
    return await signRelease(dir, bytes, options.now ?? Date.now());
  } finally {
    await release();
  }
}

/** Writes the target and signs targets, snapshot and timestamp at their next versions. The caller holds the lock. */
async function signRelease(dir: string, indexBytes: Uint8Array, now: number): Promise<Omit<PublishResult, 'index'>> {
  const expiry = await readSettings(dir);
  const keys = await readKeys(dir, ['targets', 'snapshot', 'timestamp']);
  const current = await currentVersions(dir);
  const indexInfo = fileInfo(indexBytes);
  const versions = { targets: current.targets + 1, snapshot: current.snapshot + 1, timestamp: current.timestamp + 1 };
  const targets = signMetadata('targets', { _type: 'targets', spec_version: '1.0.31', version: versions.targets, expires: tufTime(now + expiry.targets), targets: { [INDEX_TARGET]: indexInfo } }, [keys.targets]);
  const snapshot = signMetadata(
    'snapshot',
    { _type: 'snapshot', spec_version: '1.0.31', version: versions.snapshot, expires: tufTime(now + expiry.snapshot), meta: { 'targets.json': { version: versions.targets, ...fileInfo(targets) } } },
    [keys.snapshot],
  );
  const timestamp = signMetadata(
    'timestamp',
    { _type: 'timestamp', spec_version: '1.0.31', version: versions.timestamp, expires: tufTime(now + expiry.timestamp), meta: { 'snapshot.json': { version: versions.snapshot, ...fileInfo(snapshot) } } },
    [keys.timestamp],
  );
  // Order matters: everything timestamp.json names exists before it is replaced.
  await writeNewFile(join(dir, REPOSITORY_LAYOUT.targets, `${indexInfo.hashes.sha256}.${INDEX_TARGET}`), indexBytes, { overwrite: true });
  await writeNewFile(join(dir, REPOSITORY_LAYOUT.metadata, `${versions.targets}.targets.json`), targets);
  await writeNewFile(join(dir, REPOSITORY_LAYOUT.metadata, `${versions.snapshot}.snapshot.json`), snapshot);
  await writeNewFile(join(dir, REPOSITORY_LAYOUT.index), indexBytes, { overwrite: true });
  await writeNewFile(join(dir, REPOSITORY_LAYOUT.metadata, 'timestamp.json'), timestamp, { overwrite: true });
  return { versions, indexSha256: indexInfo.hashes.sha256 };
}

/** Takes the repository's publish lock (a file created exclusively), so two publishes never interleave. */
async function lock(dir: string): Promise<() => Promise<void>> {
  const file = join(dir, '.publish.lock');
  try {
    const handle = await open(file, 'wx', 0o600);
    await handle.close();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new ForgeError('FO_MARKET_REPOSITORY_INVALID', `another publish holds ${file}; if none is running, remove the file`, { details: { dir, file } });
    if (code === 'ENOENT') throw new ForgeError('FO_MARKET_REPOSITORY_INVALID', `${dir} is not a marketplace repository (run forge marketplace init)`, { details: { dir } });
    throw fromFsError(error, 'lock the repository', file);
  }
  return () => rm(file, { force: true });
}

async function readRepositoryFile(dir: string, relative: string): Promise<Buffer> {
  const file = join(dir, relative);
  return readFile(file).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ForgeError('FO_MARKET_REPOSITORY_INVALID', `${dir} is not a complete marketplace repository: ${relative} is missing (run forge marketplace init)`, { details: { dir, file }, cause: error });
    }
    throw fromFsError(error, 'read the repository', file);
  });
}

function repositoryJson(bytes: Buffer, dir: string, relative: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // Reported below.
  }
  throw new ForgeError('FO_MARKET_REPOSITORY_INVALID', `${join(dir, relative)} is not a JSON object`, { details: { dir, file: relative } });
}

async function readSettings(dir: string): Promise<RepositoryExpiry> {
  const settings = repositoryJson(await readRepositoryFile(dir, REPOSITORY_LAYOUT.settings), dir, REPOSITORY_LAYOUT.settings);
  const expiry = settings['expiry'] as Record<string, unknown> | undefined;
  const valid = settings['format'] === SETTINGS_FORMAT && typeof expiry === 'object' && expiry !== null && ROLES.every((role) => Number.isSafeInteger(expiry[role]) && (expiry[role] as number) > 0);
  if (!valid) throw new ForgeError('FO_MARKET_REPOSITORY_INVALID', `${join(dir, REPOSITORY_LAYOUT.settings)} is not ${SETTINGS_FORMAT} settings with a positive expiry per role`, { details: { dir } });
  return expiry as unknown as RepositoryExpiry;
}

async function readKeys<R extends Role>(dir: string, roles: readonly R[]): Promise<Record<R, RoleKey>> {
  const keys = {} as Record<R, RoleKey>;
  for (const role of roles) {
    const relative = join(REPOSITORY_LAYOUT.keys, `${role}.pem`);
    keys[role] = roleKeyFromPem((await readRepositoryFile(dir, relative)).toString('utf8'), join(dir, relative));
  }
  return keys;
}

/** The versions the published metadata is at, read back from it: the one source of truth. */
async function currentVersions(dir: string): Promise<{ targets: number; snapshot: number; timestamp: number }> {
  const timestampFile = join(REPOSITORY_LAYOUT.metadata, 'timestamp.json');
  const timestamp = await readRepositoryFile(dir, timestampFile).catch((error: unknown) => {
    // Before the first publish there is none: every role starts at version 1.
    if (ForgeError.is(error, 'FO_MARKET_REPOSITORY_INVALID')) return undefined;
    throw error;
  });
  if (timestamp === undefined) return { targets: 0, snapshot: 0, timestamp: 0 };
  const signed = (bytes: Buffer, relative: string) => repositoryJson(bytes, dir, relative)['signed'] as Record<string, unknown> | undefined;
  const ts = signed(timestamp, timestampFile);
  const snapshotVersion = (ts?.['meta'] as Record<string, { version?: unknown }> | undefined)?.['snapshot.json']?.version;
  if (!Number.isSafeInteger(ts?.['version']) || !Number.isSafeInteger(snapshotVersion)) {
    throw new ForgeError('FO_MARKET_REPOSITORY_INVALID', `${join(dir, timestampFile)} is not timestamp metadata with a version and a snapshot version`, { details: { dir } });
  }
  const snapshotFile = join(REPOSITORY_LAYOUT.metadata, `${snapshotVersion as number}.snapshot.json`);
  const snapshot = signed(await readRepositoryFile(dir, snapshotFile), snapshotFile);
  const targetsVersion = (snapshot?.['meta'] as Record<string, { version?: unknown }> | undefined)?.['targets.json']?.version;
  if (!Number.isSafeInteger(targetsVersion)) throw new ForgeError('FO_MARKET_REPOSITORY_INVALID', `${join(dir, snapshotFile)} names no targets.json version`, { details: { dir } });
  return { timestamp: ts?.['version'] as number, snapshot: snapshotVersion as number, targets: targetsVersion as number };
}
