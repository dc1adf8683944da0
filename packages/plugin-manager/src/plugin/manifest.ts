import { ForgeError, canonicalJson, formatIssue, validate, type Issue } from '@forgeone/common';
import { TomlError, parse as parseToml } from 'smol-toml';
import { manifestSchema, pluginTomlSchema, type Manifest, type PluginToml } from './manifest-schema.js';

function invalid(source: string, issues: readonly Issue[]): ForgeError {
  const lines = issues.map((issue) => `  ${formatIssue(issue)}`).join('\n');
  return new ForgeError('FO_MANIFEST_INVALID', `${source} has ${issues.length} problem${issues.length === 1 ? '' : 's'}:\n${lines}`, {
    details: { file: source, issues },
  });
}

/**
 * Validates an already-parsed manifest object (the shape of manifest.json).
 * @throws ForgeError FO_MANIFEST_INVALID listing every problem with its path.
 */
export function validateManifest(value: unknown, source = 'manifest.json'): Manifest {
  const result = validate(manifestSchema, value);
  if (!result.ok) throw invalid(source, result.issues);
  return result.value;
}

/**
 * Parses manifest.json text.
 * @throws ForgeError FO_MANIFEST_SYNTAX (not JSON), FO_MANIFEST_INVALID (every problem).
 */
export function parseManifestJson(text: string, source = 'manifest.json'): Manifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ForgeError('FO_MANIFEST_SYNTAX', `${source} is not valid JSON: ${(error as Error).message}`, { details: { file: source }, cause: error });
  }
  return validateManifest(value, source);
}

/**
 * Parses plugin.toml text into a manifest. `[plugin]` fields move to the top level;
 * every other table keeps its name.
 * @throws ForgeError FO_MANIFEST_SYNTAX (not TOML, with line and column), FO_MANIFEST_INVALID.
 */
export function parsePluginToml(text: string, source = 'plugin.toml'): Manifest {
  let value: unknown;
  try {
    value = parseToml(text);
  } catch (error) {
    const at = error instanceof TomlError ? `:${error.line}:${error.column}` : '';
    const message = (error as Error).message.split('\n')[0] ?? '';
    throw new ForgeError('FO_MANIFEST_SYNTAX', `${source}${at}: not valid TOML: ${message}`, { details: { file: source }, cause: error });
  }
  const result = validate(pluginTomlSchema, value);
  if (!result.ok) throw invalid(source, result.issues);
  return fromToml(result.value);
}

function fromToml(toml: PluginToml): Manifest {
  const { plugin, ...tables } = toml;
  return { ...plugin, ...tables };
}

/**
 * The canonical manifest.json text: defaults filled, sizes and durations in canonical
 * units, RFC 8785 key order, no whitespace. Equal manifests give identical bytes.
 */
export function serializeManifest(manifest: Manifest): string {
  return canonicalJson(manifestSchema.encode(manifest));
}

/** True when `text` is exactly the canonical serialisation of the manifest it parses to. */
export function isCanonicalManifest(text: string, manifest: Manifest): boolean {
  return text === serializeManifest(manifest);
}

/** One difference between two manifests: the path and both values as canonical JSON. */
export interface ManifestDifference {
  readonly path: string;
  readonly left: string;
  readonly right: string;
}

/** Every leaf where two manifests differ, after normalisation; empty when they agree. */
export function diffManifests(left: Manifest, right: Manifest): ManifestDifference[] {
  const out: ManifestDifference[] = [];
  walk(manifestSchema.encode(left), manifestSchema.encode(right), '', out);
  return out;
}

function walk(a: unknown, b: unknown, path: string, out: ManifestDifference[]): void {
  const bothObjects = typeof a === 'object' && a !== null && !Array.isArray(a) && typeof b === 'object' && b !== null && !Array.isArray(b);
  if (bothObjects) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of [...keys].sort()) {
      walk((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], path === '' ? key : `${path}.${key}`, out);
    }
    return;
  }
  const left = a === undefined ? '(absent)' : canonicalJson(a);
  const right = b === undefined ? '(absent)' : canonicalJson(b);
  if (left !== right) out.push({ path, left, right });
}
