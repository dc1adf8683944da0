import { resolveLimits as resolveLimitsOf } from '@forgeone/common';

/**
 * Hard limits applied while a package is read. Every one is checked as the stream
 * goes, so a hostile package is refused after reading (and decompressing) at most a
 * few chunks past the limit it breaks, never after unpacking it whole.
 *
 * The limits do not cover what a sink does with an accepted entry (the package layer
 * caps manifest sizes in its `beginEntry`) nor disk space beyond `maxUnpackedSize`.
 */
export interface ArchiveLimits {
  /** Largest compressed package, in bytes (FO_PACKAGE_TOO_LARGE). */
  readonly maxPackageSize: number;
  /** Largest sum of the entries' sizes, in bytes (FO_PACKAGE_UNPACKED_TOO_LARGE). */
  readonly maxUnpackedSize: number;
  /** Most entries in one package (FO_PACKAGE_TOO_MANY_ENTRIES). */
  readonly maxEntries: number;
  /** Largest single entry, in bytes (FO_PACKAGE_ENTRY_TOO_LARGE). */
  readonly maxFileSize: number;
  /**
   * Most decompressed bytes (the whole tar stream: headers, padding and data) per
   * compressed byte of the package (FO_PACKAGE_COMPRESSION_RATIO).
   */
  readonly maxCompressionRatio: number;
}

const MiB = 1024 * 1024;

/** The limits used when a caller names none: 64 MiB, 256 MiB, 10 000 entries, 128 MiB, 100:1. */
export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = Object.freeze({
  maxPackageSize: 64 * MiB,
  maxUnpackedSize: 256 * MiB,
  maxEntries: 10_000,
  maxFileSize: 128 * MiB,
  maxCompressionRatio: 100,
});

/**
 * Fills unnamed limits from {@link DEFAULT_ARCHIVE_LIMITS} and checks the named ones.
 * Sizes and counts must be non-negative safe integers; the ratio a positive finite number.
 *
 * @throws ForgeError FO_LIMIT_INVALID when a limit is malformed
 */
export function resolveLimits(limits: Partial<ArchiveLimits> = {}): ArchiveLimits {
  // Only the archive's own keys are taken: callers may pass a wider object (the package limits).
  return resolveLimitsOf('archive limit', DEFAULT_ARCHIVE_LIMITS, limits, { maxCompressionRatio: 'positive' });
}
