/**
 * Reading the store without its lock: state files, version records and manifests,
 * each checked as it is read. A change in another process ends in one rename, so a
 * reader sees each plugin before or after it; when a change removed a version
 * between reading state.json and that version's record, the state is read again.
 */
import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ForgeError, fromFsError, isNodeSystemError } from '@forgeone/common';
import { MANIFEST_JSON, sha256Digest } from '../../loader/index.js';
import { parseManifestJson, type Manifest } from '../../plugin/index.js';
import { listDirectory } from './durable.js';
import { META_DIR, VERSION_ENTRIES, checkPluginName, isPluginName, type StoreLayout } from './layout.js';
import { readStoreJson, recordSchema, stateSchema, type StateFile, type VersionRecord } from './records.js';
import type { InstalledPlugin, InstalledVersion } from './types.js';

/** How often {@link StoreReader.find} re-reads a state that a concurrent change outdated. */
const READ_ATTEMPTS = 4;

/** Plugins read at once when listing: enough to keep libuv's file threads busy, few enough to hold few file descriptors. */
export const LIST_CONCURRENCY = 16;

/**
 * `fn` of every item, at most `limit` at a time, in the items' order. After a failure no
 * item is started; the first failure rejects once the items already started have
 * settled, so nothing is still writing when the caller cleans up.
 */
export async function mapConcurrently<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  let failure: { readonly error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && failure === undefined) {
      const index = next++;
      try {
        results[index] = await fn(items[index] as T);
      } catch (error) {
        failure ??= { error }; // the workers take no new item
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure.error;
  return results;
}

/** An FO_STORE_CORRUPT error about `path`. */
export function corrupt(path: string, message: string, details: Record<string, unknown> = {}): ForgeError {
  return new ForgeError('FO_STORE_CORRUPT', message, { details: { path, ...details } });
}

/** An FO_STORE_NOT_INSTALLED error. */
export function notInstalled(name: string, root: string): ForgeError {
  return new ForgeError('FO_STORE_NOT_INSTALLED', `expected a plugin named ${name} in ${root}, found none`, { details: { name } });
}

/** Reads one store's files. */
export class StoreReader {
  /**
   * Plugins read before, by name, with the identity (inode, size, times) of the state.json
   * they were read from and of the files that reading checked: the current version's
   * record and manifest, the previous version's record. Every change replaces state.json
   * by a rename, and nothing else touches those files, so while all of them are the same
   * the plugin is: {@link find} then costs four lstats instead of three reads, a hash and a
   * parse (listing 1,000 plugins, what GET /v1/plugins and forge ps do), and a file edited
   * or removed by hand is still read again and reported.
   */
  readonly #known = new Map<string, { readonly stamp: string; readonly files: string; readonly plugin: InstalledPlugin }>();

  constructor(readonly layout: StoreLayout) {}

  /** The identity of `name`'s state.json (inode, size, times in ns), or undefined when there is none. */
  #stamp(name: string): Promise<string | undefined> {
    return this.#fileStamp(this.layout.state(name));
  }

  /** The identities of the files {@link find} checked for `plugin`, one string ('-' for a missing file). */
  async #filesStamp(plugin: InstalledPlugin): Promise<string> {
    const files = [join(plugin.current.paths.dir, VERSION_ENTRIES.record), join(plugin.current.paths.files, MANIFEST_JSON)];
    if (plugin.previous !== undefined) files.push(join(plugin.previous.paths.dir, VERSION_ENTRIES.record));
    return (await Promise.all(files.map(async (file) => (await this.#fileStamp(file)) ?? '-'))).join('|');
  }

  /** A file's identity (device, inode, size, times in ns), or undefined when there is none. */
  async #fileStamp(path: string): Promise<string | undefined> {
    try {
      const stat = await lstat(path, { bigint: true });
      return `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}`;
    } catch (error) {
      if (isNodeSystemError(error, 'ENOENT') || isNodeSystemError(error, 'ENOTDIR')) return undefined;
      throw fromFsError(error, 'read', path);
    }
  }

  /**
   * The plugin's state.json, or undefined when the plugin is not installed.
   * @throws ForgeError FO_STORE_CORRUPT, FO_IO_*
   */
  async state(name: string): Promise<StateFile | undefined> {
    const path = this.layout.state(name);
    const state = await readStoreJson(path, stateSchema, 'plugin state');
    if (state !== undefined && state.name !== name) throw corrupt(path, `expected ${path} to describe plugin ${name}, found ${state.name}`);
    return state;
  }

  /**
   * A version's record.json, or undefined when that version directory is gone.
   * @throws ForgeError FO_STORE_CORRUPT, FO_IO_*
   */
  async record(name: string, version: string): Promise<VersionRecord | undefined> {
    const path = join(this.layout.version(name, version), VERSION_ENTRIES.record);
    const record = await readStoreJson(path, recordSchema, 'version record');
    if (record !== undefined && (record.identity.name !== name || record.identity.version !== version)) {
      throw corrupt(path, `expected the record of ${name} ${version}, found ${record.identity.name} ${record.identity.version}`);
    }
    return record;
  }

  /** A record as the public {@link InstalledVersion}. */
  version(name: string, record: VersionRecord): InstalledVersion {
    const dir = this.layout.version(name, record.identity.version);
    return {
      version: record.identity.version,
      identity: { ...record.identity },
      installedAt: record.installed_at,
      packageSha256: record.package_sha256,
      packageSize: record.package_size,
      manifestDigest: record.manifest_digest,
      files: record.files,
      approvedEscalations: record.approval?.escalations,
      paths: { dir, package: join(dir, VERSION_ENTRIES.package), files: join(dir, VERSION_ENTRIES.files) },
    };
  }

  /**
   * The manifest of an installed version, checked against the digest recorded at install.
   * @throws ForgeError FO_STORE_CORRUPT, FO_MANIFEST_*
   */
  async manifest(version: InstalledVersion): Promise<Manifest> {
    const path = join(version.paths.files, MANIFEST_JSON);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw corrupt(path, `expected the installed manifest at ${path}, found ${isNodeSystemError(error) ? error.code : String(error)}`);
    }
    if (sha256Digest(text) !== version.manifestDigest) {
      throw corrupt(path, `expected ${path} to have the digest recorded at install (${version.manifestDigest}), found ${sha256Digest(text)}`);
    }
    return parseManifestJson(text, path);
  }

  /**
   * The installed plugin `name`, or undefined when it is not installed.
   * @throws ForgeError FO_STORE_INVALID_NAME, FO_STORE_CORRUPT, FO_IO_*
   */
  async find(name: string): Promise<InstalledPlugin | undefined> {
    checkPluginName(name);
    // Taken before the read: a change in between makes the next find read again, never the reverse.
    const stamp = await this.#stamp(name);
    const known = this.#known.get(name);
    if (stamp !== undefined && known?.stamp === stamp && (await this.#filesStamp(known.plugin)) === known.files) return known.plugin;
    this.#known.delete(name);
    const plugin = await this.#read(name);
    if (plugin !== undefined && stamp !== undefined) this.#known.set(name, { stamp, files: await this.#filesStamp(plugin), plugin });
    return plugin;
  }

  async #read(name: string): Promise<InstalledPlugin | undefined> {
    for (let attempt = 1; ; attempt += 1) {
      const state = await this.state(name);
      if (state === undefined) return undefined;
      const current = await this.record(name, state.current);
      const previous = state.previous === undefined ? undefined : await this.record(name, state.previous);
      if (current !== undefined && (state.previous === undefined || previous !== undefined)) {
        const installed = this.version(name, current);
        const manifest = await this.manifest(installed);
        return {
          name,
          version: state.current,
          identity: installed.identity,
          installedAt: installed.installedAt,
          switchedAt: state.switched_at,
          manifest,
          current: installed,
          previous: previous === undefined ? undefined : this.version(name, previous),
          paths: { ...installed.paths, root: this.layout.plugin(name), data: this.layout.data(name), module: join(installed.paths.files, manifest.entry) },
        };
      }
      if (attempt >= READ_ATTEMPTS) {
        const missing = current === undefined ? state.current : (state.previous ?? '');
        throw corrupt(this.layout.version(name, missing), `expected ${name} ${missing} under ${this.layout.versions(name)}, as state.json says, found no record`);
      }
    }
  }

  /**
   * Directories that may hold a plugin, sorted: a superset of {@link names} (also those
   * holding only data, or a plugin being uninstalled), read with one readdir.
   * @throws ForgeError FO_IO_*
   */
  async candidates(): Promise<string[]> {
    return (await listDirectory(this.layout.root)).filter((name) => name !== META_DIR && isPluginName(name));
  }

  /**
   * Names of the installed plugins, sorted: directories holding a state.json.
   * @throws ForgeError FO_IO_*
   */
  async names(): Promise<string[]> {
    const candidates = await this.candidates();
    const installed = await mapConcurrently(candidates, LIST_CONCURRENCY, async (name) => {
      try {
        return (await lstat(this.layout.state(name))).isFile();
      } catch (error) {
        if (!isNodeSystemError(error, 'ENOENT') && !isNodeSystemError(error, 'ENOTDIR')) throw fromFsError(error, 'read', this.layout.state(name));
        return false;
      }
    });
    return candidates.filter((_, index) => installed[index]);
  }
}
