import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document } from 'yaml';
import { ForgeError, fromFsError } from '../errors/index.js';
import { formatIssue, validate, type Issue, type SchemaDoc } from '../schema/index.js';
import { withStateDefaults, type StatePaths } from './paths.js';
import { configFileSchema, pluginManagerSchema, type ForgeConfig } from './schema.js';
import { closestWord } from './suggest.js';

/** Largest configuration file the loader reads. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** Where a configuration text came from, for messages and relative paths. */
export interface ConfigSource {
  /** Shown in messages; usually the file path. */
  readonly name: string;
  /** Relative plugin_directory and temp_directory are resolved against this directory. */
  readonly baseDir: string;
}

/** A configuration issue with the line and column where the offending key is, when known. */
export interface ConfigIssue extends Issue {
  readonly line?: number;
  readonly column?: number;
  /** For an unknown key: the known key closest to it, when one is within two edits. */
  readonly suggestion?: string;
}

/** How absent keys are filled. */
export interface ConfigOptions {
  /**
   * Defaults for plugin_directory, temp_directory, audit.path and audit.checkpoint_key
   * (see `stateDirectory`, `statePaths`). Absent: the schema's system defaults under
   * /var/lib/forgeone.
   */
  readonly statePaths?: StatePaths;
}

/**
 * Parses and validates the text of a plugin-manager.yaml.
 *
 * YAML is read with the 1.2 core schema (so `yes` is a string, not true), duplicate
 * keys are errors, and aliases are capped to stop "billion laughs" expansion.
 *
 * @throws ForgeError FO_CONFIG_SYNTAX when the text is not YAML,
 *   FO_CONFIG_INVALID with `details.issues` (every unknown key, with the closest known
 *   one, and bad value).
 */
export function parseConfig(text: string, source: ConfigSource, options: ConfigOptions = {}): ForgeConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { schema: 'core', uniqueKeys: true, prettyErrors: false, lineCounter });
  const syntax = doc.errors[0];
  if (syntax !== undefined) {
    const at = lineCounter.linePos(syntax.pos[0]);
    throw new ForgeError('FO_CONFIG_SYNTAX', `${source.name}:${at.line}:${at.col}: ${syntax.message.split('\n')[0] ?? ''}`, {
      details: { file: source.name, line: at.line, column: at.col },
    });
  }
  refuseCollectionKeys(doc, lineCounter, source.name);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 64 });
  } catch (error) {
    throw new ForgeError('FO_CONFIG_SYNTAX', `${source.name}: ${(error as Error).message}`, { details: { file: source.name }, cause: error });
  }
  const result = validate(configFileSchema, options.statePaths === undefined ? (data ?? {}) : withStateDefaults(data ?? {}, options.statePaths));
  const found = result.ok ? crossFieldIssues(result.value.plugin_manager) : result.issues;
  if (!result.ok || found.length > 0) {
    // In file order, so a user fixes them top to bottom; issues without a line go last.
    const issues: ConfigIssue[] = found
      .map((issue) => ({ ...issue, ...locate(doc, lineCounter, issue.path), ...suggest(issue) }))
      .sort((a, b) => (a.line ?? Number.MAX_SAFE_INTEGER) - (b.line ?? Number.MAX_SAFE_INTEGER));
    const lines = issues.map(
      (issue) => `  ${issue.line === undefined ? '' : `line ${issue.line}: `}${formatIssue(issue)}${issue.suggestion === undefined ? '' : ` (did you mean ${issue.suggestion}?)`}`,
    );
    throw new ForgeError('FO_CONFIG_INVALID', `${source.name} has ${issues.length} problem${issues.length === 1 ? '' : 's'}:\n${lines.join('\n')}`, {
      details: { file: source.name, issues },
    });
  }
  const config = result.value.plugin_manager;
  // Every path in the file is taken from the file's directory, so a configuration
  // means the same thing whatever directory forge runs in.
  const at = (path: string): string => resolveFrom(source.baseDir, path);
  const { signer_policy: signerPolicy, ...security } = config.security;
  return {
    ...config,
    plugin_directory: at(config.plugin_directory),
    temp_directory: at(config.temp_directory),
    security: { ...security, trust_store: at(security.trust_store), ...(signerPolicy === undefined ? {} : { signer_policy: at(signerPolicy) }) },
    audit: { ...config.audit, path: at(config.audit.path), checkpoint_key: at(config.audit.checkpoint_key) },
    daemon: { ...config.daemon, socket: at(config.daemon.socket), database: at(config.daemon.database) },
    marketplace: {
      ...config.marketplace,
      cache_directory: at(config.marketplace.cache_directory),
      ...(config.marketplace.trusted_root === undefined ? {} : { trusted_root: at(config.marketplace.trusted_root) }),
    },
    policy: {
      ...config.policy,
      ...(config.policy.cedar === undefined ? {} : { cedar: at(config.policy.cedar) }),
      grants: Object.fromEntries(
        Object.entries(config.policy.grants).map(([name, grant]) => [
          name,
          { ...grant, volumes: Object.fromEntries(Object.entries(grant.volumes).map(([volume, mapped]) => [volume, { ...mapped, host: at(mapped.host) }])) },
        ]),
      ),
    },
  };
}

/** Rules between keys, which the schema checks one by one: namespace_isolation means what it says. */
/**
 * Refuses a key that is not a plain value (a `? [a, b]` or `? {x: 1}` key, or an alias):
 * no configuration key is one, and turning it into an object key would stringify it with a
 * process warning.
 * @throws ForgeError FO_CONFIG_SYNTAX naming the first such key's line and column
 */
function refuseCollectionKeys(doc: Document, lineCounter: LineCounter, file: string): void {
  let found: { readonly kind: string; readonly offset: number } | undefined;
  visit(doc, {
    Pair(_, pair) {
      const key = pair.key;
      if (key === null || isScalar(key)) return undefined;
      const kind = isMap(key) ? 'a mapping' : isSeq(key) ? 'a sequence' : isAlias(key) ? 'an alias' : 'a non-scalar node';
      found = { kind, offset: (key as { range?: readonly number[] }).range?.[0] ?? 0 };
      return visit.BREAK;
    },
  });
  if (found === undefined) return;
  const at = lineCounter.linePos(found.offset);
  throw new ForgeError('FO_CONFIG_SYNTAX', `${file}:${at.line}:${at.col}: a key must be a plain value, found ${found.kind}`, { details: { file, line: at.line, column: at.col } });
}

function crossFieldIssues(config: ForgeConfig): Issue[] {
  const backend = config.runtime.backend;
  const isolation = config.security.namespace_isolation;
  if ((backend === 'inline' || backend === 'pool') && isolation) {
    return [{ path: 'plugin_manager.runtime.backend', expected: 'auto or process while security.namespace_isolation is true (set it to false to run plugins in the host process)', found: JSON.stringify(backend) }];
  }
  if (backend === 'process' && !isolation) {
    return [{ path: 'plugin_manager.security.namespace_isolation', expected: 'true with runtime.backend: process, which runs plugins only confined', found: 'false' }];
  }
  // A marketplace without a pinned root could only be trusted on first use; one without a URL is nothing.
  const { url, trusted_root: root } = config.marketplace;
  if ((url === undefined) !== (root === undefined)) {
    const missing = url === undefined ? 'url' : 'trusted_root';
    return [{ path: `plugin_manager.marketplace.${missing}`, expected: 'marketplace.url and marketplace.trusted_root set together', found: `only ${missing === 'url' ? 'trusted_root' : 'url'}` }];
  }
  return [];
}

/**
 * Reads and validates a configuration file.
 * @throws ForgeError FO_CONFIG_NOT_FOUND, FO_CONFIG_TOO_LARGE, FO_IO_* and the codes of {@link parseConfig}.
 */
export async function loadConfigFile(file: string, options: ConfigOptions = {}): Promise<ForgeConfig> {
  const absolute = resolve(file);
  let text: string;
  try {
    const info = await stat(absolute);
    if (info.size > MAX_CONFIG_BYTES) {
      throw new ForgeError('FO_CONFIG_TOO_LARGE', `${file} is ${info.size} bytes; configuration files may be at most ${MAX_CONFIG_BYTES} bytes`, {
        details: { file, size: info.size, limit: MAX_CONFIG_BYTES },
      });
    }
    text = await readFile(absolute, 'utf8');
  } catch (error) {
    const wrapped = fromFsError(error, 'read the configuration', file);
    if (wrapped.code === 'FO_IO_NOT_FOUND') {
      throw new ForgeError('FO_CONFIG_NOT_FOUND', `configuration file ${file} does not exist`, { details: { file }, cause: error });
    }
    throw wrapped;
  }
  return parseConfig(text, { name: file, baseDir: dirname(absolute) }, options);
}

/** The configuration with every default, as if the file were `plugin_manager: {}`. */
export function defaultConfig(options: ConfigOptions = {}): ForgeConfig {
  return parseConfig('plugin_manager: {}\n', { name: '(defaults)', baseDir: '/' }, options);
}

/** The normalised configuration as a document that can be written back to a file. */
export function configToDocument(config: ForgeConfig): { plugin_manager: unknown } {
  return { plugin_manager: pluginManagerSchema.encode(config) };
}

function resolveFrom(baseDir: string, path: string): string {
  return isAbsolute(path) ? path : resolve(baseDir, path);
}

/** Known keys of the table an unknown key sits in, from the schema's self-description. */
function knownKeysAt(segments: readonly (string | number)[]): string[] {
  let doc: SchemaDoc = configFileSchema.doc();
  for (const segment of segments) {
    if (doc.type === 'object') {
      const field = doc.fields.find((candidate) => candidate.key === segment);
      if (field === undefined) return [];
      doc = field.schema;
    } else if (doc.type === 'record' || doc.type === 'array') doc = doc.type === 'record' ? doc.value : doc.item;
    else return [];
  }
  return doc.type === 'object' ? doc.fields.map((field) => field.key) : [];
}

/** The closest known key to an unknown one (`no such key` issues only). */
function suggest(issue: Issue): { suggestion?: string } {
  if (!issue.expected.startsWith('no such key')) return {};
  const segments = pathSegments(issue.path);
  const typed = segments.at(-1);
  if (typeof typed !== 'string') return {};
  const match = closestWord(typed, knownKeysAt(segments.slice(0, -1)));
  return match === undefined ? {} : { suggestion: match };
}

const SEGMENT = /\.?([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/gy;

/** An issue path (`a.b[0]["c d"]`) as its keys and indexes. */
function pathSegments(path: string): (string | number)[] {
  const segments: (string | number)[] = [];
  SEGMENT.lastIndex = 0;
  for (let match = SEGMENT.exec(path); match !== null; match = SEGMENT.exec(path)) {
    if (match[1] !== undefined) segments.push(match[1]);
    else if (match[2] !== undefined) segments.push(Number(match[2]));
    else if (match[3] !== undefined) segments.push(JSON.parse(match[3]) as string);
  }
  return segments;
}

/** Finds the line and column of the node at an issue path, for friendlier messages. */
function locate(doc: Document, lineCounter: LineCounter, path: string): { line?: number; column?: number } {
  const segments = pathSegments(path);
  // Walk as deep as the document goes: an unknown or missing key points at its parent.
  let node: unknown = doc.contents;
  let offset: number | undefined;
  for (const segment of segments) {
    if (isMap(node)) {
      const pair = node.items.find((item) => (item.key as { value?: unknown } | null)?.value === segment);
      if (pair === undefined) break;
      offset = (pair.key as { range?: [number, number, number] }).range?.[0];
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
      offset = (node as { range?: [number, number, number] } | undefined)?.range?.[0];
    } else break;
  }
  if (offset === undefined) return {};
  const at = lineCounter.linePos(offset);
  return { line: at.line, column: at.col };
}
