/**
 * The in-toto Statement v1 ForgeOne signs (github.com/in-toto/attestation, spec v1):
 *
 * ```json
 * { "_type": "https://in-toto.io/Statement/v1",
 *   "subject": [{ "name": "manifest.json", "digest": { "sha256": "<hex>" } }, ...],
 *   "predicateType": "https://forgeone.dev/attestation/plugin/v1",
 *   "predicate": { "name": "hello", "version": "1.0.0", "abi": "forge/1",
 *                  "manifest_digest": "sha256:<hex>", "content_digest": "sha256:<hex>",
 *                  "permissions": { ...manifest.json's permissions... } } }
 * ```
 *
 * Subjects are every package file outside attestations/, sorted by path. The
 * statement is serialised as canonical JSON, so it is reproducible.
 */
import {
  ForgeError,
  INVALID,
  array,
  canonicalJson,
  formatIssue,
  isPlainObject,
  object,
  record,
  required,
  string,
  validate,
  type Issue,
  type Schema,
} from '@forgeone/common';
import type { PackageContents } from '../loader/index.js';
import { isSignedContent } from '../loader/index.js';
import { permissionsSchema } from '../plugin/index.js';

/** The in-toto statement type. */
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
/** The predicate type of a ForgeOne plugin attestation. */
export const PLUGIN_PREDICATE_TYPE = 'https://forgeone.dev/attestation/plugin/v1';

/** One signed file. */
export interface StatementSubject {
  readonly name: string;
  /** Lowercase hex sha256. */
  readonly sha256: string;
}

/** The plugin predicate. `permissions` is manifest.json's permissions table as written. */
export interface PluginPredicate {
  readonly name: string;
  readonly version: string;
  readonly abi: string;
  readonly manifest_digest: string;
  readonly content_digest: string;
  readonly permissions: Readonly<Record<string, unknown>>;
}

/** A decoded statement. */
export interface PluginStatement {
  readonly subjects: readonly StatementSubject[];
  readonly predicate: PluginPredicate;
}

const HEX64 = /^[0-9a-f]{64}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

const anyTable: Schema<Record<string, unknown>> = {
  expected: 'a table',
  decode: (value, path, issues) => {
    if (isPlainObject(value)) return value;
    issues.push({ path, expected: 'a table', found: Array.isArray(value) ? 'a list' : typeof value });
    return INVALID;
  },
  encode: (value) => value,
  doc: () => ({ type: 'scalar', expected: 'a table' }),
};

const statementSchema = object(
  {
    _type: required(string({ pattern: /^https:\/\/in-toto\.io\/Statement\/v1$/, expected: `"${STATEMENT_TYPE}"` }), 'Statement type.'),
    subject: required(
      array(
        object({
          name: required(string({ minLength: 1, maxLength: 1024 }), 'File path.'),
          digest: required(record(string({ maxLength: 256 }), { maxEntries: 8 }), 'Digests by algorithm.'),
        }),
        { maxItems: 1_000_000 },
      ),
      'Signed files.',
    ),
    predicateType: required(string({ maxLength: 200 }), 'Predicate type.'),
    predicate: required(
      object({
        name: required(string({ minLength: 1, maxLength: 256 }), 'Plugin name.'),
        version: required(string({ minLength: 1, maxLength: 256 }), 'Plugin version.'),
        abi: required(string({ minLength: 1, maxLength: 64 }), 'Plugin ABI.'),
        manifest_digest: required(string({ pattern: DIGEST, expected: 'sha256:<64 hex digits>' }), 'manifest.json digest.'),
        content_digest: required(string({ pattern: DIGEST, expected: 'sha256:<64 hex digits>' }), 'Content digest.'),
        permissions: required(anyTable, 'Permissions.'),
      }),
      'The plugin predicate.',
    ),
  },
  'an in-toto statement object',
);

/** Builds the statement for a package: every signed file, and the predicate from its manifest. */
export function buildStatement(contents: PackageContents): Buffer {
  const subject = contents.files
    .filter((file) => isSignedContent(file.path))
    .map((file) => ({ name: file.path, digest: { sha256: file.sha256 } }));
  return Buffer.from(
    canonicalJson({
      _type: STATEMENT_TYPE,
      subject,
      predicateType: PLUGIN_PREDICATE_TYPE,
      predicate: predicateFor(contents),
    }),
    'utf8',
  );
}

/** The predicate a package's statement must carry. */
export function predicateFor(contents: PackageContents): PluginPredicate {
  const { manifest } = contents;
  return {
    name: manifest.name,
    version: manifest.version,
    abi: manifest.abi,
    manifest_digest: contents.manifestDigest,
    content_digest: contents.digest,
    permissions: permissionsSchema.encode(manifest.permissions) as Record<string, unknown>,
  };
}

function invalid(source: string, message: string, issues: readonly Issue[] = []): ForgeError {
  return new ForgeError('FO_VERIFY_STATEMENT_INVALID', `${source}: ${message}`, { details: { attestation: source, issues } });
}

/**
 * Decodes a signed payload as a ForgeOne plugin statement.
 * @throws ForgeError FO_VERIFY_STATEMENT_INVALID naming every problem
 */
export function parseStatement(payload: Uint8Array, source: string): PluginStatement {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch (error) {
    throw invalid(source, `the signed payload is not JSON (${(error as Error).message})`);
  }
  if (isPlainObject(json) && json['predicateType'] !== PLUGIN_PREDICATE_TYPE && typeof json['predicateType'] === 'string') {
    throw invalid(source, `expected predicateType ${PLUGIN_PREDICATE_TYPE}, found ${JSON.stringify(json['predicateType'].slice(0, 100))}`);
  }
  const result = validate(statementSchema, json);
  if (!result.ok) {
    throw invalid(source, `the signed payload is not a ForgeOne plugin statement:\n${result.issues.slice(0, 20).map((issue) => `  ${formatIssue(issue)}`).join('\n')}`, result.issues);
  }
  const subjects: StatementSubject[] = [];
  const seen = new Set<string>();
  for (const [index, entry] of result.value.subject.entries()) {
    const sha = entry.digest['sha256'];
    if (sha === undefined || !HEX64.test(sha)) throw invalid(source, `subject[${index}] (${JSON.stringify(entry.name.slice(0, 100))}) has no sha256 digest of 64 lowercase hex digits`);
    if (seen.has(entry.name)) throw invalid(source, `subject ${JSON.stringify(entry.name.slice(0, 100))} is listed twice`);
    seen.add(entry.name);
    subjects.push({ name: entry.name, sha256: sha });
  }
  return { subjects, predicate: result.value.predicate };
}

/** True when the predicate says exactly what the package's manifest says. */
export function predicateMatches(predicate: PluginPredicate, contents: PackageContents): boolean {
  return canonicalJson(predicate) === canonicalJson(predicateFor(contents));
}
