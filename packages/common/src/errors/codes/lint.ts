import type { ErrorSpec } from '../spec.js';

/**
 * Codes for `forge lint` (`FO_LINT_*`): one per kind of problem a plugin can have before
 * it is ever loaded. Lint reports every problem it finds as data (code, severity,
 * message, where) rather than throwing it.
 */
export const LINT_CODES = {
  FO_LINT_SOURCE_INVALID: {
    kind: 'invalid',
    summary: 'The path given to lint is neither a plugin directory nor a .forgepkg file, or a file in the directory is not a regular file.',
  },
  FO_LINT_PACKAGE_INVALID: {
    kind: 'invalid',
    summary: 'The .forgepkg cannot be read as a package (broken archive, entry outside the layout); details.cause is the reader\'s code.',
  },
  FO_LINT_MANIFEST_MISSING: {
    kind: 'invalid',
    summary: 'The plugin has no manifest: no plugin.toml in the directory, no manifest.json in the package.',
  },
  FO_LINT_MANIFEST_INVALID: {
    kind: 'invalid',
    summary: 'plugin.toml or manifest.json does not parse or breaks the manifest schema; details.cause is the parser\'s code.',
  },
  FO_LINT_MANIFEST_NOT_CANONICAL: {
    kind: 'invalid',
    summary: 'manifest.json is valid but not canonical, so the loader refuses it; repack with forge pack.',
  },
  FO_LINT_MANIFEST_MISMATCH: {
    kind: 'invalid',
    summary: 'plugin.toml and manifest.json disagree on one field (one problem per field, details.path).',
  },
  FO_LINT_MODULE_MISSING: {
    kind: 'invalid',
    summary: 'The module the manifest names as its entry is not there.',
  },
  FO_LINT_MODULE_INVALID: {
    kind: 'invalid',
    summary: 'The entry module cannot be decoded (malformed, or uses a feature the host does not support); details.cause is the decoder\'s code.',
  },
  FO_LINT_TOO_LARGE: {
    kind: 'invalid',
    summary: 'The package, a file in it, or the module is over a limit the loader enforces; details.limit and details.actual say by how much.',
  },
  FO_LINT_EXPORT_MISSING: {
    kind: 'invalid',
    summary: 'The module lacks an export forge/1 requires: memory, forge_alloc or forge_free.',
  },
  FO_LINT_EXPORT_SHAPE: {
    kind: 'invalid',
    summary: 'An export forge/1 reserves or a callable export has the wrong kind or signature (docs/reference/abi.md section 2).',
  },
  FO_LINT_ENTRY_POINT_MISSING: {
    kind: 'invalid',
    summary: 'The manifest names a lifecycle entry point that the module does not export.',
  },
  FO_LINT_ENTRY_POINT_SHAPE: {
    kind: 'invalid',
    summary: 'A lifecycle entry point is exported with a type other than (func (result i32)).',
  },
  FO_LINT_IMPORT_NOT_PERMITTED: {
    kind: 'invalid',
    summary: 'The module imports a host call its manifest\'s permissions do not grant, so the loader would refuse it; details.requires names the permission.',
  },
  FO_LINT_IMPORT_UNKNOWN: {
    kind: 'invalid',
    summary: 'The module imports something no ForgeOne host provides: a module other than forge and wasi_snapshot_preview1, an unknown function, or a memory, table or global.',
  },
  FO_LINT_IMPORT_SHAPE: {
    kind: 'invalid',
    summary: 'A forge.* host call is imported with a type other than (func (param i32 i32) (result i64)).',
  },
  FO_LINT_THREADS_NOT_PERMITTED: {
    kind: 'invalid',
    summary: 'The module uses a shared memory or atomic waits without permissions.threads, so the loader would refuse it.',
  },
  FO_LINT_MEMORY_OVER_LIMIT: {
    kind: 'invalid',
    summary: 'The module\'s initial memory (or its tables) does not fit the memory the manifest\'s limits grant, so it could not be instantiated.',
  },
  FO_LINT_UNSIGNED: {
    kind: 'integrity',
    summary: 'The plugin carries no signature: a warning, or an error with --require-signature.',
  },
  FO_LINT_SIGNATURE_INVALID: {
    kind: 'integrity',
    summary: 'A signature does not verify against the trust store (tampered, untrusted, revoked, or refused by the signer policy); details.cause is the verifier\'s code.',
  },
  FO_LINT_NO_TRUST_STORE: {
    kind: 'invalid',
    summary: 'The package is signed but no trust store was given to verify it against (--trust or security.trust_store).',
  },
} as const satisfies Record<string, ErrorSpec>;
