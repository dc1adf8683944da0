import { lstat, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ForgeError, describeValue, fromFsError } from '@forgeone/common';
import { parsePluginToml, serializeManifest, type Manifest } from '../plugin/index.js';
import { writeArchive, type ArchiveFile } from './archive/index.js';
import { sha256Digest } from './digest.js';
import { ASSETS_PREFIX, MANIFEST_JSON, PLUGIN_TOML } from './layout.js';
import { DEFAULT_PACKAGE_LIMITS, readPackage, type PackageInMemory, type PackageLimits } from './package.js';

const WASM_MAGIC = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

/** What {@link packDirectory} produced. */
export interface PackResult {
  /** The package bytes (a deterministic tar.gz). */
  readonly bytes: Buffer;
  /** `sha256:<hex>` of the package bytes. */
  readonly fileDigest: string;
  /** The package read back under the limits, as any reader will see it. */
  readonly contents: PackageInMemory;
}

async function readSourceFile(dir: string, name: string, limit: number): Promise<Buffer> {
  const path = join(dir, name);
  let info;
  try {
    info = await lstat(path);
  } catch (error) {
    const wrapped = fromFsError(error, `read ${name}`, path);
    if (wrapped.code === 'FO_IO_NOT_FOUND') {
      throw new ForgeError('FO_PACK_SOURCE_MISSING', `${dir} has no ${name}; a plugin directory needs plugin.toml and its entry module`, {
        details: { path },
      });
    }
    throw wrapped;
  }
  if (!info.isFile()) {
    throw new ForgeError('FO_PACK_SOURCE_INVALID', `${path} is not a regular file (symbolic links and special files are never packed)`, { details: { path } });
  }
  if (info.size > limit) {
    throw new ForgeError('FO_PACK_SOURCE_INVALID', `${path} is ${info.size} bytes; the limit is ${limit} bytes`, { details: { path, limit, actual: info.size } });
  }
  try {
    return await readFile(path);
  } catch (error) {
    throw fromFsError(error, `read ${name}`, path);
  }
}

/** Collects assets/ recursively: regular files only; empty directories vanish. */
async function collectAssets(dir: string, limits: PackageLimits): Promise<ArchiveFile[]> {
  const root = join(dir, 'assets');
  const out: ArchiveFile[] = [];
  async function walk(relative: string): Promise<void> {
    const absolute = join(root, relative);
    let names: string[];
    try {
      names = await readdir(absolute);
    } catch (error) {
      if (relative === '' && (error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw fromFsError(error, 'read the assets directory', absolute);
    }
    for (const name of names.sort()) {
      const childRelative = relative === '' ? name : `${relative}/${name}`;
      const child = join(root, childRelative);
      const info = await lstat(child);
      if (info.isDirectory()) await walk(childRelative);
      else if (info.isFile()) out.push({ path: `${ASSETS_PREFIX}${childRelative}`, data: await readSourceFile(root, childRelative, limits.maxFileSize) });
      else {
        throw new ForgeError('FO_PACK_SOURCE_INVALID', `${describeValue(child)} is not a regular file or directory (symbolic links and special files are never packed)`, {
          details: { path: child },
        });
      }
    }
  }
  const info = await lstat(root).catch(() => undefined);
  if (info !== undefined && !info.isDirectory()) {
    throw new ForgeError('FO_PACK_SOURCE_INVALID', `${root} must be a directory`, { details: { path: root } });
  }
  await walk('');
  return out;
}

/**
 * Builds a package from a plugin directory: plugin.toml (validated, and turned into
 * the canonical manifest.json), the entry module (plugin.wasm unless the manifest's
 * `entry` says otherwise) and assets/. Other files in the directory are not packed.
 * The same inputs always give byte-identical output. The result is read back under
 * `limits` before it is returned, so it never produces a package readers refuse.
 *
 * @throws ForgeError FO_PACK_SOURCE_MISSING, FO_PACK_SOURCE_INVALID, FO_MANIFEST_*, FO_IO_*,
 *   and any FO_PACKAGE_* limit the result would break.
 */
export async function packDirectory(dir: string, limits: PackageLimits = DEFAULT_PACKAGE_LIMITS): Promise<PackResult> {
  const tomlBytes = await readSourceFile(dir, PLUGIN_TOML, limits.maxManifestSize);
  const manifest: Manifest = parsePluginToml(tomlBytes.toString('utf8'), join(dir, PLUGIN_TOML));
  const module = await readSourceFile(dir, manifest.entry, limits.maxFileSize);
  if (!module.subarray(0, 8).equals(WASM_MAGIC)) {
    throw new ForgeError('FO_PACK_SOURCE_INVALID', `${join(dir, manifest.entry)} is not a WebAssembly binary module (expected \\0asm version 1)`, {
      details: { path: join(dir, manifest.entry) },
    });
  }
  const files: ArchiveFile[] = [
    { path: MANIFEST_JSON, data: Buffer.from(serializeManifest(manifest), 'utf8') },
    { path: PLUGIN_TOML, data: tomlBytes },
    { path: manifest.entry, data: module },
    ...(await collectAssets(dir, limits)),
  ];
  const bytes = writeArchive(files);
  const contents = await readPackage(bytes, limits);
  return { bytes, fileDigest: sha256Digest(bytes), contents };
}

/** The default output name for a packed plugin: `<name>-<version>.forgepkg`. */
export function defaultPackageName(manifest: Manifest): string {
  return `${manifest.name}-${manifest.version}.forgepkg`;
}
