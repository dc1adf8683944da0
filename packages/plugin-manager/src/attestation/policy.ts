/**
 * The signer policy: which verified signers count, and how many must agree. It is
 * applied after verification, so a refusal here (kind `denied`) never hides a broken
 * signature (kind `integrity`). The file is JSON:
 *
 * ```json
 * { "version": 1,
 *   "threshold": 1,
 *   "publishers": ["ACME Plugins"],
 *   "keyless": [{ "san": "https://github.com/acme/p/.github/workflows/release.yml@refs/heads/main",
 *                 "issuer": "https://token.actions.githubusercontent.com" }],
 *   "plugins": { "payments": { "threshold": 2, "publishers": ["ACME Plugins", "ACME Security"] } } }
 * ```
 *
 * Defaults, and why they are safe: without a policy, `threshold` is 1 and any
 * publisher whose chain reaches a trust-store root (or whose key is in the store)
 * counts, because putting a root in the trust store is itself the operator's grant.
 * Keyless signers never count unless `keyless` names their exact identity: anyone can
 * obtain a Fulcio certificate, so a keyless signature alone proves nothing.
 */
import { readFile, stat } from 'node:fs/promises';
import {
  ForgeError,
  array,
  formatIssue,
  fromFsError,
  integer,
  object,
  optional,
  record,
  required,
  string,
  validate,
  withDefault,
  type Issue,
} from '@forgeone/common';

/** A keyless signer identity: the certificate's subjectAlternativeName and OIDC issuer, matched exactly. */
export interface KeylessIdentity {
  readonly san: string;
  readonly issuer: string;
}

/** The rule for one plugin. */
export interface SignerRule {
  /** Distinct allowed publishers that must have signed. At least 1. */
  readonly threshold: number;
  /** Allowed keyed publishers; undefined allows any trusted one. */
  readonly publishers: readonly string[] | undefined;
  /** Allowed keyless identities. */
  readonly keyless: readonly KeylessIdentity[];
}

/** A whole policy: a default rule and per-plugin overrides. */
export interface SignerPolicy extends SignerRule {
  /** Overrides by plugin name; an absent field inherits the default rule's. */
  readonly plugins: Readonly<Record<string, Partial<SignerRule>>>;
}

/** The policy used when none is configured: one signature from any trusted publisher. */
export const DEFAULT_SIGNER_POLICY: SignerPolicy = Object.freeze({ threshold: 1, publishers: undefined, keyless: [], plugins: {} });

/** Largest policy file read, in bytes. */
export const MAX_POLICY_BYTES = 1024 * 1024;

const publisher = string({ minLength: 1, maxLength: 256, pattern: /^[^\u0000-\u001f\u007f]+$/u, expected: 'a publisher name (1-256 printable characters)' });
const identity = object({
  san: required(string({ minLength: 1, maxLength: 1024 }), 'Exact subjectAlternativeName (email or URI) of the signing certificate.'),
  issuer: required(string({ minLength: 1, maxLength: 1024 }), 'Exact OIDC issuer URL recorded in the certificate.'),
});
const threshold = integer({ min: 1, max: 64 });
const publishers = array(publisher, { maxItems: 10_000, unique: true });
const keyless = array(identity, { maxItems: 10_000 });

const policySchema = object(
  {
    version: required(integer({ min: 1, max: 1 }), 'Format version, 1.'),
    threshold: withDefault(threshold, 1, 'Distinct allowed publishers that must sign.'),
    publishers: optional(publishers, 'Allowed keyed publishers (certificate subject CN or SAN, or trusted key name).'),
    keyless: withDefault(keyless, [], 'Allowed keyless identities.'),
    plugins: withDefault(
      record(
        object({
          threshold: optional(threshold, 'Override.'),
          publishers: optional(publishers, 'Override.'),
          keyless: optional(keyless, 'Override.'),
        }),
        { maxEntries: 10_000 },
      ),
      {},
      'Per-plugin overrides.',
    ),
  },
  'a signer policy object',
);

function invalid(source: string, message: string, issues: readonly Issue[] = []): ForgeError {
  return new ForgeError('FO_SIGNER_POLICY_INVALID', `${source}: ${message}`, { details: { file: source, issues } });
}

/**
 * Parses a signer policy.
 * @throws ForgeError FO_SIGNER_POLICY_INVALID listing every problem
 */
export function parseSignerPolicy(text: string, source: string): SignerPolicy {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw invalid(source, `not valid JSON (${(error as Error).message})`);
  }
  const result = validate(policySchema, json);
  if (!result.ok) {
    throw invalid(source, `${result.issues.length} problem${result.issues.length === 1 ? '' : 's'}:\n${result.issues.map((issue) => `  ${formatIssue(issue)}`).join('\n')}`, result.issues);
  }
  const value = result.value;
  const plugins: Record<string, Partial<SignerRule>> = {};
  for (const [name, rule] of Object.entries(value.plugins)) {
    plugins[name] = {
      ...(rule.threshold === undefined ? {} : { threshold: rule.threshold }),
      ...(rule.publishers === undefined ? {} : { publishers: rule.publishers }),
      ...(rule.keyless === undefined ? {} : { keyless: rule.keyless }),
    };
  }
  return { threshold: value.threshold, publishers: value.publishers, keyless: value.keyless, plugins };
}

/**
 * Reads a signer policy file.
 * @throws ForgeError FO_SIGNER_POLICY_INVALID, FO_IO_*
 */
export async function loadSignerPolicy(file: string): Promise<SignerPolicy> {
  try {
    const info = await stat(file);
    if (info.size > MAX_POLICY_BYTES) throw invalid(file, `is ${info.size} bytes; the limit is ${MAX_POLICY_BYTES}`);
    return parseSignerPolicy(await readFile(file, 'utf8'), file);
  } catch (error) {
    throw fromFsError(error, 'read the signer policy', file);
  }
}

/** The rule that applies to plugin `name`. */
export function ruleFor(policy: SignerPolicy, name: string): SignerRule {
  const override = Object.hasOwn(policy.plugins, name) ? policy.plugins[name] : undefined;
  return {
    threshold: override?.threshold ?? policy.threshold,
    publishers: override?.publishers ?? policy.publishers,
    keyless: override?.keyless ?? policy.keyless,
  };
}
