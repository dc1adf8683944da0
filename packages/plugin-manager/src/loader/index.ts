export {
  DEFAULT_ARCHIVE_LIMITS,
  DirectorySink,
  MemorySink,
  readArchive,
  writeArchive,
  type ArchiveEntry,
  type ArchiveFile,
  type ArchiveLimits,
  type EntrySink,
} from './archive/index.js';
export { contentDigest, sha256Digest, type PackageFile } from './digest.js';
export { ASSETS_PREFIX, ATTESTATIONS_PREFIX, MANIFEST_JSON, PLUGIN_TOML, isSignedContent, roleOf, type EntryRole } from './layout.js';
export {
  DEFAULT_PACKAGE_LIMITS,
  packageLimitsFromConfig,
  readPackage,
  unpackPackage,
  type PackageContents,
  type PackageInMemory,
  type PackageLimits,
  type UnpackedPackage,
} from './package.js';
export { defaultPackageName, packDirectory, type PackResult } from './pack.js';
