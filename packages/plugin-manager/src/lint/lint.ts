/**
 * `lintPlugin`: checks a plugin directory or .forgepkg the way the loader will, before
 * it ships, and lists every problem (docs/guide/testing.md). The checks, in order:
 * source (readable, the package layout) -> manifests (parse, canonical, plugin.toml
 * and manifest.json agree) -> sizes (the loader's limits) -> module (decodes, forge/1
 * exports and entry points, imports against permissions, threads, memory against the
 * manifest's limits) -> signature (verified against a trust store when present).
 */
import { lstat, readFile } from 'node:fs/promises';
import { ForgeError, fromFsError } from '@forgeone/common';
import { verifyPackage, type SignerPolicy, type TrustStore } from '../attestation/index.js';
import { DEFAULT_PACKAGE_LIMITS, type PackageLimits } from '../loader/index.js';
import type { Manifest } from '../plugin/index.js';
import { lintModule, type ModuleLintOptions } from './module.js';
import { LintReport, type LintProblem } from './problems.js';
import { readDirectorySource, readPackageSource, type LintSource } from './source.js';

/** How to lint. Every limit defaults to the loader's default. */
export interface LintOptions extends ModuleLintOptions {
  /** Package limits (plugin_manager.package_limits; default DEFAULT_PACKAGE_LIMITS). */
  readonly packageLimits?: PackageLimits;
  /** Trust store to verify signatures against; without one a signed package is an error (FO_LINT_NO_TRUST_STORE). */
  readonly trustStore?: TrustStore;
  /** Signer policy (default: any publisher the trust store vouches for). */
  readonly signerPolicy?: SignerPolicy;
  /** Make a missing signature an error rather than a warning (default false). */
  readonly requireSignature?: boolean;
  /** The time certificates are checked at, in ms since the epoch (default now). */
  readonly now?: number;
}

/** What {@link lintPlugin} found. */
export interface LintResult {
  /** True when no problem is an error (warnings allowed). */
  readonly ok: boolean;
  /** What was linted: a plugin directory or a .forgepkg. */
  readonly kind: 'directory' | 'package';
  /** The manifest the loader would use, when it parsed. */
  readonly manifest: Manifest | undefined;
  /** Every problem, in the order the checks found them. */
  readonly problems: readonly LintProblem[];
}

/**
 * Lints the plugin at `path`: a directory holding plugin.toml and the module it names,
 * or a .forgepkg file. Never stops at the first problem.
 *
 * @throws ForgeError FO_LINT_SOURCE_INVALID when `path` is neither; FO_IO_* when a file
 *   exists but cannot be read. Problems of the plugin are returned, not thrown.
 */
export async function lintPlugin(path: string, options: LintOptions = {}): Promise<LintResult> {
  const limits = options.packageLimits ?? DEFAULT_PACKAGE_LIMITS;
  const info = await lstat(path).catch((error: unknown) => {
    throw fromFsError(error, 'inspect the plugin', path);
  });
  const report = new LintReport();
  let source: LintSource;
  let kind: LintResult['kind'];
  if (info.isDirectory()) {
    kind = 'directory';
    source = await readDirectorySource(report, path, limits);
  } else if (info.isFile() && path.endsWith('.forgepkg')) {
    kind = 'package';
    if (info.size > limits.maxPackageSize) {
      report.add('FO_LINT_TOO_LARGE', 'error', 'package', `expected at most ${limits.maxPackageSize} bytes (the loader's limit), found ${info.size}`, { limit: limits.maxPackageSize, actual: info.size });
      return { ok: false, kind, manifest: undefined, problems: report.problems };
    }
    const bytes = await readFile(path).catch((error: unknown) => {
      throw fromFsError(error, 'read the package', path);
    });
    source = await readPackageSource(report, bytes, limits);
  } else {
    throw new ForgeError('FO_LINT_SOURCE_INVALID', `${path}: expected a plugin directory (with plugin.toml) or a .forgepkg file, found ${info.isFile() ? 'another file' : 'neither'}`, {
      details: { path },
    });
  }
  if (source.module !== undefined) lintModule(report, source.module.bytes, source.module.where, source.manifest, options);
  lintSignature(report, kind, source, options);
  return { ok: report.ok, kind, manifest: source.manifest, problems: report.problems };
}

/** Signatures: a directory has none; a package's are verified when it read cleanly. */
function lintSignature(report: LintReport, kind: LintResult['kind'], source: LintSource, options: LintOptions): void {
  const severity = options.requireSignature === true ? 'error' : 'warning';
  if (kind === 'directory') {
    if (options.requireSignature === true) report.add('FO_LINT_UNSIGNED', 'error', 'signature', 'expected a signed package, found a plugin directory (pack and sign it first)');
    return;
  }
  const contents = source.contents;
  if (contents === undefined) return; // unreadable: its problems are listed already
  if (contents.attestations.length === 0) {
    report.add('FO_LINT_UNSIGNED', severity, 'attestations/', 'expected at least one signature (attestations/*.sigstore.json), found none; sign it with forge sign');
    return;
  }
  if (options.trustStore === undefined) {
    report.add('FO_LINT_NO_TRUST_STORE', 'error', 'attestations/', `expected a trust store to verify ${contents.attestations.length} signature(s) against (--trust or security.trust_store), found none`);
    return;
  }
  try {
    const result = verifyPackage(contents, {
      trustStore: options.trustStore,
      ...(options.signerPolicy === undefined ? {} : { policy: options.signerPolicy }),
      ...(options.now === undefined ? {} : { now: options.now }),
    });
    for (const rejected of result.rejected) {
      report.add('FO_LINT_SIGNATURE_INVALID', 'warning', rejected.attestation, `expected every signature to verify, found this one does not (${rejected.error.code}: ${rejected.error.message}); the package is still accepted by the others`, {
        cause: rejected.error.code,
      });
    }
  } catch (error) {
    report.addCause('FO_LINT_SIGNATURE_INVALID', 'attestations/', error);
  }
}
