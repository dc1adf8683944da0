import { ForgeError, describeValue, type PackageLimitsConfig } from '@forgeone/common';
import {
  diffManifests,
  isCanonicalManifest,
  parseManifestJson,
  parsePluginToml,
  type Manifest,
} from '../plugin/index.js';
import {
  DEFAULT_ARCHIVE_LIMITS,
  DirectorySink,
  MemorySink,
  readArchive,
  type ArchiveEntry,
  type ArchiveLimits,
  type EntrySink,
} from './archive/index.js';
import { contentDigest, sha256Digest, type PackageFile } from './digest.js';
import { MANIFEST_JSON, PLUGIN_TOML, isSignedContent, requireRole } from './layout.js';

/** Limits applied while reading a package; see `plugin_manager.package_limits`. */
export interface PackageLimits extends ArchiveLimits {
  /** Largest manifest.json, plugin.toml or attestation file, in bytes. */
  readonly maxManifestSize: number;
}

/** The defaults, equal to the configuration defaults. */
export const DEFAULT_PACKAGE_LIMITS: PackageLimits = { ...DEFAULT_ARCHIVE_LIMITS, maxManifestSize: 1024 * 1024 };

/** Package limits from the normalised configuration. */
export function packageLimitsFromConfig(config: PackageLimitsConfig): PackageLimits {
  return {
    maxPackageSize: config.max_package_size,
    maxUnpackedSize: config.max_unpacked_size,
    maxEntries: config.max_entries,
    maxFileSize: config.max_file_size,
    maxCompressionRatio: config.max_compression_ratio,
    maxManifestSize: config.max_manifest_size,
  };
}

/** What a verified-well-formed package holds. Signatures are not checked here. */
export interface PackageContents {
  readonly manifest: Manifest;
  /** The manifest.json bytes as text (canonical). */
  readonly manifestText: string;
  /** `sha256:<hex>` of manifest.json. */
  readonly manifestDigest: string;
  /** The {@link contentDigest} of the package: the plugin identity's digest. */
  readonly digest: string;
  /** Every file, sorted by path. */
  readonly files: readonly PackageFile[];
  /** The files under attestations/. */
  readonly attestations: readonly PackageFile[];
}

/** A package read into memory, for inspection and verification. */
export interface PackageInMemory extends PackageContents {
  /** The bytes of a file; undefined when the package has no such file. */
  read(path: string): Buffer | undefined;
}

/** A package unpacked into its own temporary directory. */
export interface UnpackedPackage extends PackageContents {
  /** The directory holding the files; removed by {@link dispose}. */
  readonly dir: string;
  /** Removes the directory. Safe to call twice. */
  dispose(): Promise<void>;
}

/**
 * Wraps a sink to apply the layout rules while streaming and to keep the small
 * metadata files (manifest.json, plugin.toml) in memory for validation.
 */
class LayoutSink implements EntrySink {
  readonly metadata = new Map<string, Buffer[]>();
  #current: string | undefined;

  constructor(
    private readonly inner: EntrySink,
    private readonly maxManifestSize: number,
  ) {}

  async beginEntry(path: string, size: number): Promise<void> {
    const role = requireRole(path);
    if ((role === 'manifest' || role === 'toml' || role === 'attestation') && size > this.maxManifestSize) {
      throw new ForgeError('FO_MANIFEST_TOO_LARGE', `${describeValue(path)} is ${size} bytes; the limit is ${this.maxManifestSize} bytes`, {
        details: { entry: path, limit: this.maxManifestSize, actual: size },
      });
    }
    this.#current = role === 'manifest' || role === 'toml' ? path : undefined;
    if (this.#current !== undefined) this.metadata.set(path, []);
    await this.inner.beginEntry(path, size);
  }

  async write(chunk: Uint8Array, stable?: boolean): Promise<void> {
    if (this.#current !== undefined) this.metadata.get(this.#current)?.push(Buffer.from(chunk));
    await this.inner.write(chunk, stable);
  }

  async endEntry(entry: ArchiveEntry): Promise<void> {
    await this.inner.endEntry(entry);
  }

  async abort(): Promise<void> {
    await this.inner.abort();
  }

  text(path: string): string | undefined {
    const chunks = this.metadata.get(path);
    return chunks === undefined ? undefined : Buffer.concat(chunks).toString('utf8');
  }
}

/** Checks what can only be checked once every entry is known. */
function validateContents(entries: readonly ArchiveEntry[], sink: LayoutSink): PackageContents {
  const manifestText = sink.text(MANIFEST_JSON);
  if (manifestText === undefined) {
    throw new ForgeError('FO_PACKAGE_MISSING_MANIFEST', 'the package has no manifest.json', { details: { entry: MANIFEST_JSON } });
  }
  const manifest = parseManifestJson(manifestText, MANIFEST_JSON);
  if (!isCanonicalManifest(manifestText, manifest)) {
    throw new ForgeError('FO_PACKAGE_MANIFEST_NOT_CANONICAL', 'manifest.json is valid but not canonical (sorted keys, no whitespace, normalised values); repack with forge pack', {
      details: { entry: MANIFEST_JSON },
    });
  }
  const modules = entries.filter((entry) => requireRole(entry.path) === 'module').map((entry) => entry.path);
  if (!modules.includes(manifest.entry)) {
    throw new ForgeError('FO_PACKAGE_MISSING_MODULE', `the package lacks ${manifest.entry}, the entry module named by manifest.json`, {
      details: { entry: manifest.entry },
    });
  }
  const stray = modules.find((path) => path !== manifest.entry);
  if (stray !== undefined) {
    throw new ForgeError('FO_PACKAGE_UNEXPECTED_ENTRY', `package entry ${describeValue(stray)} is a module other than the entry ${manifest.entry}`, {
      details: { entry: stray },
    });
  }
  const tomlText = sink.text(PLUGIN_TOML);
  if (tomlText !== undefined) {
    const differences = diffManifests(parsePluginToml(tomlText, PLUGIN_TOML), manifest);
    if (differences.length > 0) {
      const shown = differences.slice(0, 10).map((d) => `  ${d.path}: plugin.toml has ${d.left}, manifest.json has ${d.right}`);
      throw new ForgeError('FO_PACKAGE_MANIFEST_MISMATCH', `plugin.toml and manifest.json disagree:\n${shown.join('\n')}`, {
        details: { differences },
      });
    }
  }
  const files = entries.map((entry) => ({ path: entry.path, size: entry.size, sha256: entry.sha256 })).sort((a, b) => (a.path < b.path ? -1 : 1));
  return {
    manifest,
    manifestText,
    manifestDigest: sha256Digest(manifestText),
    digest: contentDigest(files),
    files,
    attestations: files.filter((file) => !isSignedContent(file.path)),
  };
}

/**
 * Reads a package fully into memory under `limits`, checking its layout, manifest
 * and plugin.toml agreement. Nothing is written to disk.
 *
 * @param source a file path or the package bytes
 * @throws ForgeError every FO_PACKAGE_* and FO_MANIFEST_* code, FO_IO_*
 */
export async function readPackage(source: string | Uint8Array, limits: PackageLimits = DEFAULT_PACKAGE_LIMITS): Promise<PackageInMemory> {
  const memory = new MemorySink();
  const sink = new LayoutSink(memory, limits.maxManifestSize);
  const entries = await readArchive(source, sink, limits);
  const contents = validateContents(entries, sink);
  return { ...contents, read: (path) => memory.files.get(path) };
}

/**
 * Unpacks a package into a new directory under `tempRoot` (created 0700 if absent),
 * with the same checks as {@link readPackage}. Nothing is written outside that
 * directory, and it is removed on every failure.
 *
 * @throws ForgeError every FO_PACKAGE_* and FO_MANIFEST_* code, FO_IO_*
 */
export async function unpackPackage(
  source: string | Uint8Array,
  tempRoot: string,
  limits: PackageLimits = DEFAULT_PACKAGE_LIMITS,
): Promise<UnpackedPackage> {
  const directory = await DirectorySink.create(tempRoot);
  const sink = new LayoutSink(directory, limits.maxManifestSize);
  const entries = await readArchive(source, sink, limits);
  let contents: PackageContents;
  try {
    contents = validateContents(entries, sink);
  } catch (error) {
    await directory.abort();
    throw error;
  }
  return { ...contents, dir: directory.dir, dispose: () => directory.dispose() };
}
