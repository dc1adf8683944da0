import type { ErrorSpec } from '../spec.js';

/** Codes for manifests, `forge pack` and reading `.forgepkg` packages. */
export const PACKAGE_CODES = {
  FO_MANIFEST_SYNTAX: {
    kind: 'invalid',
    summary: 'manifest.json is not valid JSON or plugin.toml is not valid TOML.',
  },
  FO_MANIFEST_INVALID: {
    kind: 'invalid',
    summary:
      'The manifest has unknown fields or bad values; details.issues lists every one with its path and what was expected.',
  },
  FO_MANIFEST_TOO_LARGE: {
    kind: 'limit',
    summary: 'manifest.json or plugin.toml is larger than the configured manifest size limit.',
  },
  FO_PACK_SOURCE_MISSING: {
    kind: 'not_found',
    summary: 'The directory given to `forge pack` lacks plugin.toml or the entry module.',
  },
  FO_PACK_SOURCE_INVALID: {
    kind: 'invalid',
    summary:
      'The directory given to `forge pack` holds something that cannot be packed (a link, a special file, a bad name, a non-wasm entry).',
  },
  FO_PACKAGE_NOT_GZIP: {
    kind: 'invalid',
    summary: 'The file is not a gzip stream, so it is not a .forgepkg package.',
  },
  FO_PACKAGE_TOO_LARGE: {
    kind: 'limit',
    summary: 'The compressed package is larger than package_limits.max_package_size.',
  },
  FO_PACKAGE_UNPACKED_TOO_LARGE: {
    kind: 'limit',
    summary: 'The package unpacks to more than package_limits.max_unpacked_size.',
  },
  FO_PACKAGE_TOO_MANY_ENTRIES: {
    kind: 'limit',
    summary: 'The package has more entries than package_limits.max_entries.',
  },
  FO_PACKAGE_ENTRY_TOO_LARGE: {
    kind: 'limit',
    summary: 'One file in the package is larger than package_limits.max_file_size.',
  },
  FO_PACKAGE_COMPRESSION_RATIO: {
    kind: 'limit',
    summary:
      'The package unpacks to more than package_limits.max_compression_ratio times its compressed size (a decompression bomb).',
  },
  FO_PACKAGE_ABSOLUTE_PATH: {
    kind: 'invalid',
    summary: 'An entry name is an absolute path.',
  },
  FO_PACKAGE_PATH_TRAVERSAL: {
    kind: 'invalid',
    summary: 'An entry name contains a `..` component.',
  },
  FO_PACKAGE_BAD_PATH: {
    kind: 'invalid',
    summary:
      'An entry name is empty, too long, or has empty or `.` components, backslashes or control characters.',
  },
  FO_PACKAGE_NAME_ENCODING: {
    kind: 'invalid',
    summary: 'An entry name is not valid UTF-8.',
  },
  FO_PACKAGE_SYMLINK: {
    kind: 'invalid',
    summary: 'The package holds a symbolic link; packages hold regular files only.',
  },
  FO_PACKAGE_HARDLINK: {
    kind: 'invalid',
    summary: 'The package holds a hard link; packages hold regular files only.',
  },
  FO_PACKAGE_DEVICE: {
    kind: 'invalid',
    summary: 'The package holds a device node or FIFO; packages hold regular files only.',
  },
  FO_PACKAGE_ENTRY_TYPE: {
    kind: 'invalid',
    summary:
      'The package holds an entry that is not a regular file (a directory, a pax or GNU extension header, an unknown type).',
  },
  FO_PACKAGE_DUPLICATE_ENTRY: {
    kind: 'invalid',
    summary: 'Two entries have the same name, or names that differ only in letter case.',
  },
  FO_PACKAGE_UNEXPECTED_ENTRY: {
    kind: 'invalid',
    summary:
      'An entry is outside the package layout (manifest.json, plugin.toml, the entry module, assets/, attestations/*.sigstore.json).',
  },
  FO_PACKAGE_MISSING_MANIFEST: {
    kind: 'invalid',
    summary: 'The package has no manifest.json.',
  },
  FO_PACKAGE_MISSING_MODULE: {
    kind: 'invalid',
    summary: "The package lacks the wasm module named by the manifest's entry (plugin.wasm by default).",
  },
  FO_PACKAGE_MANIFEST_NOT_CANONICAL: {
    kind: 'invalid',
    summary: 'manifest.json is not in canonical form (sorted keys, no whitespace, normalised values).',
  },
  FO_PACKAGE_MANIFEST_MISMATCH: {
    kind: 'invalid',
    summary: 'plugin.toml and manifest.json in the package describe different plugins.',
  },
  FO_PACKAGE_TRUNCATED: {
    kind: 'integrity',
    summary: 'The package ends early: the gzip stream or the tar archive is cut short.',
  },
  FO_PACKAGE_CORRUPT: {
    kind: 'integrity',
    summary: 'The package is corrupt: bad deflate data, a gzip CRC or length mismatch, or a bad tar header checksum.',
  },
  FO_PACKAGE_TRAILING_DATA: {
    kind: 'integrity',
    summary: 'Bytes follow the end of the gzip stream or the end of the tar archive.',
  },
} as const satisfies Record<string, ErrorSpec>;
