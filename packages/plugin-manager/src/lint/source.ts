/**
 * Reading what lint checks, from a plugin directory (plugin.toml, the module it names,
 * and manifest.json when present) or a .forgepkg, with the loader's own reader, layout
 * rules and manifest parsers, recording every problem instead of stopping at the first.
 */
import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ForgeError, describeValue, fromFsError } from '@forgeone/common';
import { MANIFEST_JSON, MemorySink, PLUGIN_TOML, readArchive, readPackage, roleOf, type PackageInMemory, type PackageLimits } from '../loader/index.js';
import { diffManifests, isCanonicalManifest, parseManifestJson, parsePluginToml, type Manifest } from '../plugin/index.js';
import { SIZE_CODES, type LintReport } from './problems.js';

/** What lint found to check. */
export interface LintSource {
  /** The manifest the loader would use (manifest.json in a package, plugin.toml in a directory), when it parsed. */
  readonly manifest: Manifest | undefined;
  /** The entry module's bytes and where they came from. */
  readonly module: { readonly bytes: Uint8Array; readonly where: string } | undefined;
  /** The package as the loader reads it, when it read cleanly (for signature checks). */
  readonly contents: PackageInMemory | undefined;
}

/** Reads `path` if it is a regular file no larger than `limit` bytes; records a problem and returns undefined otherwise. */
async function readSmall(report: LintReport, path: string, where: string, limit: number): Promise<Buffer | undefined> {
  const info = await lstat(path).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fromFsError(error, 'inspect', path);
  });
  if (info === undefined) return undefined;
  if (!info.isFile()) {
    report.add('FO_LINT_SOURCE_INVALID', 'error', where, `expected a regular file, found ${info.isSymbolicLink() ? 'a symbolic link' : 'something else'} (packages hold regular files only)`);
    return undefined;
  }
  if (info.size > limit) {
    report.add('FO_LINT_TOO_LARGE', 'error', where, `expected at most ${limit} bytes (the loader's limit), found ${info.size}`, { limit, actual: info.size });
    return undefined;
  }
  return readFile(path).catch((error: unknown) => {
    throw fromFsError(error, 'read', path);
  });
}

function parse(report: LintReport, where: string, parser: () => Manifest): Manifest | undefined {
  try {
    return parser();
  } catch (error) {
    report.addCause('FO_LINT_MANIFEST_INVALID', where, error);
    return undefined;
  }
}

/** One problem per field where plugin.toml and manifest.json disagree. */
function compare(report: LintReport, toml: Manifest, json: Manifest): void {
  for (const difference of diffManifests(toml, json)) {
    report.add('FO_LINT_MANIFEST_MISMATCH', 'error', `${PLUGIN_TOML}: ${difference.path}`, `expected plugin.toml and manifest.json to agree on ${difference.path}, found ${difference.left} in plugin.toml and ${difference.right} in manifest.json`, {
      path: difference.path,
      toml: difference.left,
      json: difference.right,
    });
  }
}

/**
 * Reads a plugin directory: plugin.toml (required), manifest.json (optional; it must be
 * canonical and agree), and the module plugin.toml names, each under the package limits
 * a packed copy would meet.
 * @throws ForgeError FO_IO_* when a file exists but cannot be read
 */
export async function readDirectorySource(report: LintReport, dir: string, limits: PackageLimits): Promise<LintSource> {
  const tomlBytes = await readSmall(report, join(dir, PLUGIN_TOML), PLUGIN_TOML, limits.maxManifestSize);
  if (tomlBytes === undefined && !report.problems.some((p) => p.where === PLUGIN_TOML)) {
    report.add('FO_LINT_MANIFEST_MISSING', 'error', PLUGIN_TOML, `expected ${join(dir, PLUGIN_TOML)}, found no such file`);
  }
  const manifest = tomlBytes === undefined ? undefined : parse(report, PLUGIN_TOML, () => parsePluginToml(tomlBytes.toString('utf8'), PLUGIN_TOML));
  const jsonBytes = await readSmall(report, join(dir, MANIFEST_JSON), MANIFEST_JSON, limits.maxManifestSize);
  if (jsonBytes !== undefined) {
    const json = parse(report, MANIFEST_JSON, () => parseManifestJson(jsonBytes.toString('utf8'), MANIFEST_JSON));
    if (json !== undefined && manifest !== undefined) compare(report, manifest, json);
  }
  if (manifest === undefined) return { manifest, module: undefined, contents: undefined };
  const bytes = await readSmall(report, join(dir, manifest.entry), manifest.entry, limits.maxFileSize);
  if (bytes === undefined && !report.problems.some((p) => p.where === manifest.entry)) {
    report.add('FO_LINT_MODULE_MISSING', 'error', manifest.entry, `expected the entry module ${join(dir, manifest.entry)} (build it first), found no such file`);
  }
  return { manifest, module: bytes === undefined ? undefined : { bytes, where: manifest.entry }, contents: undefined };
}

/**
 * Reads a .forgepkg with the package reader under `limits`, then applies the layout
 * and manifest rules one by one so that each broken rule is its own problem.
 * @throws ForgeError FO_IO_* when the file cannot be read
 */
export async function readPackageSource(report: LintReport, bytes: Uint8Array, limits: PackageLimits): Promise<LintSource> {
  const sink = new MemorySink();
  try {
    await readArchive(bytes, sink, limits);
  } catch (error) {
    const code = error instanceof ForgeError && SIZE_CODES.has(error.code) ? 'FO_LINT_TOO_LARGE' : 'FO_LINT_PACKAGE_INVALID';
    report.addCause(code, 'package', error);
    return { manifest: undefined, module: undefined, contents: undefined };
  }
  const files = sink.files;
  const modules: string[] = [];
  for (const [path, data] of files) {
    const role = roleOf(path);
    if (role === undefined) report.add('FO_LINT_PACKAGE_INVALID', 'error', path, `expected manifest.json, plugin.toml, a root .wasm module, assets/... or attestations/<name>.sigstore.json, found ${describeValue(path)}`);
    else if ((role === 'manifest' || role === 'toml' || role === 'attestation') && data.length > limits.maxManifestSize) {
      report.add('FO_LINT_TOO_LARGE', 'error', path, `expected at most ${limits.maxManifestSize} bytes (the loader's limit), found ${data.length}`, { limit: limits.maxManifestSize, actual: data.length });
    } else if (role === 'module') modules.push(path);
  }
  const jsonText = files.get(MANIFEST_JSON)?.toString('utf8');
  if (jsonText === undefined) report.add('FO_LINT_MANIFEST_MISSING', 'error', MANIFEST_JSON, 'expected manifest.json in the package, found none');
  const manifest = jsonText === undefined ? undefined : parse(report, MANIFEST_JSON, () => parseManifestJson(jsonText, MANIFEST_JSON));
  if (manifest !== undefined && jsonText !== undefined && !isCanonicalManifest(jsonText, manifest)) {
    report.add('FO_LINT_MANIFEST_NOT_CANONICAL', 'error', MANIFEST_JSON, 'expected canonical JSON (sorted keys, no whitespace, normalised values), found another encoding; repack with forge pack');
  }
  const tomlText = files.get(PLUGIN_TOML)?.toString('utf8');
  const toml = tomlText === undefined ? undefined : parse(report, PLUGIN_TOML, () => parsePluginToml(tomlText, PLUGIN_TOML));
  if (toml !== undefined && manifest !== undefined) compare(report, toml, manifest);
  let module: LintSource['module'];
  if (manifest !== undefined) {
    const data = files.get(manifest.entry);
    if (data === undefined) report.add('FO_LINT_MODULE_MISSING', 'error', manifest.entry, `expected the entry module ${manifest.entry} named by manifest.json, found no such file in the package`);
    else module = { bytes: data, where: manifest.entry };
    for (const stray of modules.filter((path) => path !== manifest.entry)) {
      report.add('FO_LINT_PACKAGE_INVALID', 'error', stray, `expected one module, the entry ${manifest.entry}, found another: ${describeValue(stray)}`);
    }
  }
  // The package as the loader reads it, for the signature checks; only when every rule
  // above held (otherwise the reader refuses it for a reason already listed).
  const contents = report.ok ? await readPackage(bytes, limits).catch((error: unknown) => void report.addCause('FO_LINT_PACKAGE_INVALID', 'package', error)) : undefined;
  return { manifest, module, contents: contents ?? undefined };
}
