/**
 * The revocation list: `revocations.json` in the trust store, a DSSE envelope signed
 * by the key of one of the store's root certificates, whose payload names what is
 * no longer trusted:
 *
 * ```json
 * { "version": 1, "issued_at": "2025-06-01T00:00:00.000Z", "next_update": "2025-07-01T00:00:00.000Z",
 *   "serials": ["5f1c0a..."], "key_ids": ["<sha256 hex of SPKI>"], "digests": ["sha256:<content digest>"] }
 * ```
 *
 * A serial revokes every certificate in a signer's path with that serial (serials are
 * 128-bit random numbers in a ForgeOne PKI, so they do not collide); a key id revokes
 * the signing key whatever certificate holds it; a digest revokes one package
 * content. `next_update`, when present, is a promise to publish a fresher list:
 * after it, verification fails closed rather than trust a stale list.
 */
import {
  ForgeError,
  array,
  canonicalJson,
  formatIssue,
  integer,
  isPlainObject,
  object,
  optional,
  required,
  string,
  validate,
  withDefault,
} from '@forgeone/common';
import type { PrivateKey, PublicKey } from './crypto.js';
import { envelopeToJson, signEnvelope, verifyEnvelopeSignature, type Envelope } from './dsse.js';
import type { Certificate } from './x509.js';

/** The DSSE payload type of a revocation list. */
export const REVOCATION_PAYLOAD_TYPE = 'application/vnd.forgeone.revocations.v1+json';

/** What a list revokes, in its normalised form. */
export interface RevocationEntries {
  /** Certificate serials, lowercase hex without leading zeros. */
  readonly serials: readonly string[];
  /** Key ids: lowercase hex sha256 of a SubjectPublicKeyInfo. */
  readonly key_ids: readonly string[];
  /** Package content digests, `sha256:<hex>`. */
  readonly digests: readonly string[];
}

/** A verified revocation list. Times are ms since the epoch. */
export interface RevocationList {
  readonly issuedAt: number;
  readonly nextUpdate: number | undefined;
  readonly serials: ReadonlySet<string>;
  readonly keyIds: ReadonlySet<string>;
  readonly digests: ReadonlySet<string>;
  /** Subject of the root whose key signed the list. */
  readonly signer: string;
}

const SERIAL = /^(?:0x)?([0-9a-fA-F]{1,2}(?::?[0-9a-fA-F]{2}){0,40})$/;
const KEY_ID = /^[0-9a-f]{64}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z$/;
const MAX_ENTRIES = 100_000;

/** A serial written as hex (any case, optional colons or 0x): normalised, or undefined when it is not hex. */
export function normaliseSerial(text: string): string | undefined {
  const match = SERIAL.exec(text.trim());
  if (match === null) return undefined;
  const hex = (match[1] ?? '').replaceAll(':', '').toLowerCase().replace(/^0+/, '');
  return hex === '' ? '0' : hex;
}

const time = string({ pattern: ISO_TIME, expected: 'an ISO 8601 UTC time like 2025-06-01T00:00:00Z' });
const payloadSchema = object(
  {
    version: required(integer({ min: 1, max: 1 }), 'Format version, 1.'),
    issued_at: required(time, 'When the list was made.'),
    next_update: optional(time, 'When a fresher list will exist; after it the list is stale.'),
    serials: withDefault(array(string({ maxLength: 100 }), { maxItems: MAX_ENTRIES }), [], 'Revoked certificate serials (hex).'),
    key_ids: withDefault(array(string({ pattern: KEY_ID, expected: '64 lowercase hex digits' }), { maxItems: MAX_ENTRIES }), [], 'Revoked key ids.'),
    digests: withDefault(array(string({ pattern: DIGEST, expected: 'sha256:<64 lowercase hex digits>' }), { maxItems: MAX_ENTRIES }), [], 'Revoked package content digests.'),
  },
  'a revocation list object',
);

function invalid(source: string, message: string, details: Record<string, unknown> = {}): ForgeError {
  return new ForgeError('FO_REVOCATION_INVALID', `${source}: ${message}`, { details: { file: source, ...details } });
}

/**
 * Makes a signed revocation list.
 * @param key the private key of a root certificate in the trust store
 * @param now issue time, ms since the epoch
 * @param nextUpdate optional time after which the list is stale
 * @returns the JSON text of the signed list
 * @throws ForgeError FO_REVOCATION_ENTRY_INVALID for a malformed serial, key id or digest
 */
export function createRevocationList(entries: RevocationEntries, key: PrivateKey, now: number, nextUpdate?: number): string {
  const serials = entries.serials.map((serial) => {
    const normalised = normaliseSerial(serial);
    if (normalised === undefined) throw new ForgeError('FO_REVOCATION_ENTRY_INVALID', `${JSON.stringify(serial)} is not a certificate serial in hex`, { details: { serial } });
    return normalised;
  });
  const payload = {
    version: 1,
    issued_at: new Date(now).toISOString(),
    ...(nextUpdate === undefined ? {} : { next_update: new Date(nextUpdate).toISOString() }),
    serials: [...new Set(serials)].sort(),
    key_ids: [...new Set(entries.key_ids)].sort(),
    digests: [...new Set(entries.digests)].sort(),
  };
  const result = validate(payloadSchema, payload);
  if (!result.ok) {
    throw new ForgeError('FO_REVOCATION_ENTRY_INVALID', `revocation entries are malformed: ${result.issues.map(formatIssue).join('; ')}`, { details: { issues: result.issues } });
  }
  const envelope = signEnvelope(REVOCATION_PAYLOAD_TYPE, Buffer.from(canonicalJson(payload), 'utf8'), key);
  return `${JSON.stringify(envelopeToJson(envelope), null, 2)}\n`;
}

/** Decodes a revocation list's DSSE envelope, without checking its signature. */
function decodeEnvelope(text: string, source: string): Envelope {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw invalid(source, `not valid JSON (${(error as Error).message})`);
  }
  const signatures = isPlainObject(json) ? json['signatures'] : undefined;
  if (
    !isPlainObject(json) ||
    typeof json['payload'] !== 'string' ||
    typeof json['payloadType'] !== 'string' ||
    !Array.isArray(signatures) ||
    signatures.length === 0 ||
    signatures.length > 16 ||
    !signatures.every((entry) => isPlainObject(entry) && typeof entry['sig'] === 'string')
  ) {
    throw invalid(source, 'expected a DSSE envelope {payload, payloadType, signatures: [{keyid, sig}]}');
  }
  if (json['payloadType'] !== REVOCATION_PAYLOAD_TYPE) {
    throw invalid(source, `expected payloadType ${REVOCATION_PAYLOAD_TYPE}, found ${JSON.stringify(String(json['payloadType']).slice(0, 100))}`);
  }
  return {
    payloadType: json['payloadType'],
    payload: Buffer.from(json['payload'], 'base64'),
    signatures: (signatures as Record<string, unknown>[]).map((entry) => ({
      keyid: typeof entry['keyid'] === 'string' ? entry['keyid'] : '',
      sig: Buffer.from(entry['sig'] as string, 'base64'),
    })),
  };
}

/**
 * Reads and verifies a revocation list against the trust store's roots.
 * @param publicKeyOf turns a root's SubjectPublicKeyInfo into a key (cached by the caller)
 * @throws ForgeError FO_REVOCATION_INVALID
 */
export function parseRevocationList(text: string, roots: readonly Certificate[], publicKeyOf: (spki: Buffer) => PublicKey, source: string): RevocationList {
  const envelope = decodeEnvelope(text, source);
  let signer: Certificate | undefined;
  for (const signature of envelope.signatures) {
    signer = roots.find((root) => {
      const key = publicKeyOf(root.spki);
      return (signature.keyid === '' || signature.keyid === key.keyid) && verifyEnvelopeSignature(envelope, signature.sig, key);
    });
    if (signer !== undefined) break;
  }
  if (signer === undefined) throw invalid(source, 'no signature on the list verifies with the key of a root certificate in the trust store');
  let json: unknown;
  try {
    json = JSON.parse(envelope.payload.toString('utf8'));
  } catch (error) {
    throw invalid(source, `the signed payload is not JSON (${(error as Error).message})`);
  }
  const result = validate(payloadSchema, json);
  if (!result.ok) {
    throw invalid(source, `the signed payload is malformed:\n${result.issues.slice(0, 20).map((issue) => `  ${formatIssue(issue)}`).join('\n')}`, { issues: result.issues });
  }
  const serials = new Set<string>();
  for (const serial of result.value.serials) {
    const normalised = normaliseSerial(serial);
    if (normalised === undefined) throw invalid(source, `serial ${JSON.stringify(serial)} is not hex`);
    serials.add(normalised);
  }
  return {
    issuedAt: Date.parse(result.value.issued_at),
    nextUpdate: result.value.next_update === undefined ? undefined : Date.parse(result.value.next_update),
    serials,
    keyIds: new Set(result.value.key_ids),
    digests: new Set(result.value.digests),
    signer: signer.subject.text,
  };
}

/** The entries of a verified list, for adding to it. */
export function revocationEntries(list: RevocationList): RevocationEntries {
  return { serials: [...list.serials], key_ids: [...list.keyIds], digests: [...list.digests] };
}
