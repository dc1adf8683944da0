/**
 * Writing one version directory in staging: the package bytes as verified, every
 * file unpacked from the same bytes, and the record. Everything is flushed, files
 * and then directories bottom-up, before the caller renames it into place.
 */
import { dirname, join, sep } from 'node:path';
import { ForgeError, type PluginIdentity } from '@forgeone/common';
import { sha256Digest, type PackageInMemory } from '../../loader/index.js';
import { makeDirectoryDurable, syncDirectory, writeNewFile } from './durable.js';
import { STORE_FORMAT, VERSION_ENTRIES } from './layout.js';
import { storeJson, type VersionRecord } from './records.js';

/** Installed content is never modified in place: read-only for everyone. */
export const CONTENT_MODE = 0o444;
/** Directories of the store. */
export const DIRECTORY_MODE = 0o755;

/** What {@link stageVersion} writes. */
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
 * Writes a version directory at `dir` (which must not exist).
 * @param onFile awaited after each package file is written (a test hook)
 * @throws ForgeError FO_STORE_CORRUPT when a file's bytes do not match the package
 *   listing (a loader bug), FO_IO_*
 */
export async function stageVersion(dir: string, input: VersionInput, onFile: () => Promise<void>): Promise<VersionRecord> {
  const { contents } = input;
  const filesDir = join(dir, VERSION_ENTRIES.files);
  await makeDirectoryDurable(dir, DIRECTORY_MODE);
  await writeNewFile(join(dir, VERSION_ENTRIES.package), input.bytes, CONTENT_MODE);
  await makeDirectoryDurable(filesDir, DIRECTORY_MODE);
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
    await makeParents(dirname(target), filesDir, directories);
    await writeNewFile(target, data, CONTENT_MODE);
    await onFile();
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
  await writeNewFile(join(dir, VERSION_ENTRIES.record), storeJson(record), CONTENT_MODE);
  // Deepest first, so each directory's entries are on disk before its parent's.
  for (const directory of [...directories].sort((a, b) => b.length - a.length)) await syncDirectory(directory);
  await syncDirectory(dir);
  return record;
}

async function makeParents(directory: string, root: string, made: Set<string>): Promise<void> {
  if (made.has(directory) || directory === root) return;
  await makeParents(dirname(directory), root, made);
  await makeDirectoryDurable(directory, DIRECTORY_MODE);
  made.add(directory);
}
