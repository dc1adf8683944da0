/**
 * One version directory, added to a tree built in staging (new-tree.ts): the package
 * bytes as verified, every file unpacked from the same bytes, and the record. No I/O
 * here: the tree writes and flushes it all before the caller renames it into place.
 */
import { dirname, join, sep } from 'node:path';
import { ForgeError, type PluginIdentity } from '@forgeone/common';
import { sha256Digest, type PackageInMemory } from '../../loader/index.js';
import { STORE_FORMAT, VERSION_ENTRIES } from './layout.js';
import type { NewTree } from './new-tree.js';
import { storeJson, type VersionRecord } from './records.js';

/** Installed content is never modified in place: read-only for everyone. */
export const CONTENT_MODE = 0o444;
/** Directories of the store. */
export const DIRECTORY_MODE = 0o755;

/** What {@link addVersion} adds. */
export interface VersionInput {
  /** The package file exactly as it was verified. */
  readonly bytes: Uint8Array;
  /** The same package, read and verified. */
  readonly contents: PackageInMemory;
  readonly identity: PluginIdentity;
  /** ISO 8601. */
  readonly installedAt: string;
  /** Set when the install needed permission approval. */
  readonly approval?: { readonly approvedAt: string; readonly escalations: readonly string[] };
}

/**
 * Adds a version directory at `dir` (which must not exist) to `tree`.
 * @throws ForgeError FO_STORE_CORRUPT when a file's bytes do not match the package
 *   listing (a loader bug)
 */
export function addVersion(tree: NewTree, dir: string, input: VersionInput): VersionRecord {
  const { contents } = input;
  const filesDir = join(dir, VERSION_ENTRIES.files);
  tree.directory(dir, DIRECTORY_MODE);
  tree.file({ path: join(dir, VERSION_ENTRIES.package), data: input.bytes, mode: CONTENT_MODE });
  tree.directory(filesDir, DIRECTORY_MODE);
  const directories = new Set<string>([filesDir]);
  for (const file of contents.files) {
    const data = contents.read(file.path);
    // SECURITY: what goes to disk is checked against the listing the signature covers.
    if (data === undefined || sha256Digest(data) !== `sha256:${file.sha256}`) {
      throw new ForgeError('FO_STORE_CORRUPT', `expected package file ${file.path} with sha256 ${file.sha256}, found other bytes while staging`, {
        details: { path: file.path },
      });
    }
    const target = join(filesDir, ...file.path.split('/'));
    // The loader refuses `..`, absolute and empty segments; this keeps that true here.
    if (!target.startsWith(filesDir + sep)) {
      throw new ForgeError('FO_STORE_CORRUPT', `package file ${file.path} would be written outside ${filesDir}`, { details: { path: file.path } });
    }
    addParents(tree, dirname(target), directories);
    tree.file({ path: target, data, mode: CONTENT_MODE, packaged: true });
  }
  const record: VersionRecord = {
    format: STORE_FORMAT,
    identity: { ...input.identity },
    package_sha256: sha256Digest(input.bytes),
    package_size: input.bytes.length,
    manifest_digest: contents.manifestDigest,
    files: contents.files.map((file) => ({ path: file.path, size: file.size, sha256: file.sha256 })),
    installed_at: input.installedAt,
    ...(input.approval === undefined ? {} : { approval: { approved_at: input.approval.approvedAt, escalations: [...input.approval.escalations] } }),
  };
  tree.file({ path: join(dir, VERSION_ENTRIES.record), data: storeJson(record), mode: CONTENT_MODE });
  return record;
}

/** Adds `directory` and its parents up to a directory already added, parents first. */
function addParents(tree: NewTree, directory: string, added: Set<string>): void {
  if (added.has(directory)) return;
  addParents(tree, dirname(directory), added);
  tree.directory(directory, DIRECTORY_MODE);
  added.add(directory);
}
