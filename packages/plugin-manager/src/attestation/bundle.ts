/**
 * Sigstore bundles (protobuf-specs `dev.sigstore.bundle.v1.Bundle`, JSON form) as
 * ForgeOne writes and reads them for keyed signatures:
 *
 * ```json
 * { "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
 *   "verificationMaterial": { "certificate": { "rawBytes": "<DER, base64>" }, "tlogEntries": [] },
 *   "dsseEnvelope": { "payload": "<base64>", "payloadType": "application/vnd.in-toto+json",
 *                     "signatures": [{ "keyid": "<hex>", "sig": "<base64>" }] } }
 * ```
 *
 * Verification material is one of: `certificate` (the signer's leaf; a v0.3 bundle
 * may hold no more), `publicKey.hint` (the key id of a key in the trust store), or
 * `x509CertificateChain` (leaf first, then intermediates), which ForgeOne writes only
 * when the signer supplies intermediates (`forge sign --chain`): the v0.3 spec
 * reserves it for older bundles, so other Sigstore clients will not read those.
 * Bundles with transparency-log entries are keyless and are handed to keyless.ts.
 */
import {
  ForgeError,
  array,
  canonicalJson,
  constrain,
  formatIssue,
  isPlainObject,
  object,
  optional,
  required,
  string,
  transform,
  validate,
  INVALID,
  type Issue,
  type Schema,
} from '@forgeone/common';
import { envelopeToJson, type Envelope } from './dsse.js';

/** The bundle media type ForgeOne writes. */
export const BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
/** The older spelling of the v0.3 media type, also accepted. */
export const BUNDLE_V03_LEGACY_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle+json;version=0.3';

/** How a keyed bundle names its signer. */
export type VerificationMaterial =
  | { readonly kind: 'certificate'; readonly certificates: readonly Buffer[] }
  | { readonly kind: 'publicKey'; readonly hint: string };

/** A keyed bundle, decoded. */
export interface KeyedBundle {
  readonly mediaType: string;
  readonly material: VerificationMaterial;
  readonly envelope: Envelope;
}

/** What {@link parseBundle} found: a keyed bundle, or a keyless one for keyless.ts. */
export type ParsedBundle = { readonly kind: 'keyed'; readonly bundle: KeyedBundle } | { readonly kind: 'keyless'; readonly json: Record<string, unknown> };

/** Most certificates accepted in x509CertificateChain. */
const MAX_CHAIN = 8;
/** Largest base64 field accepted (the whole attestation file is already capped by the package limits). */
const MAX_BASE64 = 4 * 1024 * 1024;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const base64 = transform(string({ maxLength: MAX_BASE64 }), 'standard base64 text', (text): Buffer | typeof INVALID =>
  BASE64.test(text) ? Buffer.from(text, 'base64') : INVALID,
);
const nonEmptyBase64 = constrain(base64, (value, report) => {
  if (value.length === 0) report('', 'non-empty base64 text', 'an empty string');
});

const anything: Schema<unknown> = {
  expected: 'any value',
  decode: (value) => value,
  encode: (value) => value,
  doc: () => ({ type: 'scalar', expected: 'any value' }),
};

const rawBytes = object({ rawBytes: required(nonEmptyBase64, 'DER certificate') }, 'a table with rawBytes');

const bundleSchema = constrain(
  object(
    {
      mediaType: required(string({ maxLength: 200 }), 'Bundle media type.'),
      verificationMaterial: required(
        object({
          certificate: optional(rawBytes, 'The signing certificate.'),
          x509CertificateChain: optional(object({ certificates: required(array(rawBytes, { maxItems: MAX_CHAIN }), 'Leaf first.') }), 'Certificate chain.'),
          publicKey: optional(object({ hint: required(string({ minLength: 1, maxLength: 200 }), 'Key id.') }), 'Public key hint.'),
          tlogEntries: optional(array(anything, { maxItems: 0 }), 'Transparency log entries (none for keyed bundles).'),
          timestampVerificationData: optional(object({ rfc3161Timestamps: optional(array(anything, { maxItems: 0 }), 'RFC 3161 timestamps (unused).') }), 'Unused.'),
        }),
        'Who signed.',
      ),
      dsseEnvelope: optional(
        object({
          payload: required(nonEmptyBase64, 'The statement.'),
          payloadType: required(string({ maxLength: 200 }), 'Payload type.'),
          signatures: required(
            array(object({ sig: required(nonEmptyBase64, 'Signature.'), keyid: optional(string({ maxLength: 200 }), 'Key id hint.') }), { maxItems: 1 }),
            'Exactly one signature.',
          ),
        }),
        'DSSE envelope.',
      ),
      messageSignature: optional(anything, 'Not used by ForgeOne.'),
    },
    'a Sigstore bundle object',
  ),
  (bundle, report) => {
    const material = bundle.verificationMaterial;
    const kinds = [material.certificate, material.x509CertificateChain, material.publicKey].filter((entry) => entry !== undefined).length;
    if (kinds !== 1) report('verificationMaterial', 'exactly one of certificate, x509CertificateChain, publicKey', `${kinds}`);
    if (material.x509CertificateChain?.certificates.length === 0) report('verificationMaterial.x509CertificateChain.certificates', 'at least one certificate', 'an empty list');
    if (bundle.dsseEnvelope !== undefined && bundle.dsseEnvelope.signatures.length !== 1) {
      report('dsseEnvelope.signatures', 'exactly one signature', `${bundle.dsseEnvelope.signatures.length}`);
    }
    if (bundle.dsseEnvelope === undefined && bundle.messageSignature === undefined) report('', 'a dsseEnvelope', 'no content');
  },
);

function malformed(source: string, issues: readonly Issue[]): ForgeError {
  const lines = issues.slice(0, 20).map((issue) => `  ${formatIssue(issue)}`);
  return new ForgeError('FO_BUNDLE_MALFORMED', `${source} is not a well-formed Sigstore bundle:\n${lines.join('\n')}`, {
    details: { attestation: source, issues },
  });
}

/**
 * Parses an attestation file. Bundles with transparency-log entries are returned
 * as keyless JSON for keyless.ts; every other bundle must be a keyed v0.3 bundle
 * holding a DSSE envelope.
 *
 * @throws ForgeError FO_BUNDLE_MALFORMED (every problem in details.issues), FO_BUNDLE_UNSUPPORTED
 */
export function parseBundle(data: Uint8Array | string, source: string): ParsedBundle {
  let json: unknown;
  try {
    json = JSON.parse(typeof data === 'string' ? data : Buffer.from(data).toString('utf8'));
  } catch (error) {
    throw new ForgeError('FO_BUNDLE_MALFORMED', `${source} is not valid JSON: ${(error as Error).message}`, {
      details: { attestation: source, issues: [] },
      cause: error,
    });
  }
  if (!isPlainObject(json)) throw malformed(source, [{ path: '', expected: 'a Sigstore bundle object', found: Array.isArray(json) ? 'a list' : typeof json }]);
  const material = json['verificationMaterial'];
  if (isPlainObject(material) && Array.isArray(material['tlogEntries']) && material['tlogEntries'].length > 0) return { kind: 'keyless', json };

  const result = validate(bundleSchema, json);
  if (!result.ok) throw malformed(source, result.issues);
  const bundle = result.value;
  if (bundle.mediaType !== BUNDLE_MEDIA_TYPE && bundle.mediaType !== BUNDLE_V03_LEGACY_MEDIA_TYPE) {
    throw new ForgeError('FO_BUNDLE_UNSUPPORTED', `${source} has media type ${JSON.stringify(bundle.mediaType.slice(0, 100))}; keyed bundles must be ${BUNDLE_MEDIA_TYPE}`, {
      details: { attestation: source, mediaType: bundle.mediaType },
    });
  }
  const envelope = bundle.dsseEnvelope;
  if (envelope === undefined) {
    throw new ForgeError('FO_BUNDLE_UNSUPPORTED', `${source} holds a message signature; ForgeOne verifies DSSE envelopes carrying in-toto statements`, {
      details: { attestation: source },
    });
  }
  const signature = envelope.signatures[0] as { sig: Buffer; keyid?: string };
  const m = bundle.verificationMaterial;
  const certificates = m.certificate !== undefined ? [m.certificate.rawBytes] : m.x509CertificateChain?.certificates.map((entry) => entry.rawBytes);
  return {
    kind: 'keyed',
    bundle: {
      mediaType: bundle.mediaType,
      material: certificates !== undefined ? { kind: 'certificate', certificates } : { kind: 'publicKey', hint: m.publicKey?.hint ?? '' },
      envelope: { payloadType: envelope.payloadType, payload: envelope.payload, signatures: [{ keyid: signature.keyid ?? '', sig: signature.sig }] },
    },
  };
}

/**
 * Serialises a keyed bundle as canonical JSON, so signing the same package with the
 * same Ed25519 key always gives the same bytes.
 */
export function serializeBundle(bundle: { readonly material: VerificationMaterial; readonly envelope: Envelope }): string {
  const { material } = bundle;
  let verificationMaterial: Record<string, unknown>;
  if (material.kind === 'publicKey') verificationMaterial = { publicKey: { hint: material.hint } };
  else if (material.certificates.length === 1) verificationMaterial = { certificate: { rawBytes: (material.certificates[0] as Buffer).toString('base64') } };
  else verificationMaterial = { x509CertificateChain: { certificates: material.certificates.map((der) => ({ rawBytes: der.toString('base64') })) } };
  return `${canonicalJson({
    mediaType: BUNDLE_MEDIA_TYPE,
    verificationMaterial: { ...verificationMaterial, tlogEntries: [] },
    dsseEnvelope: envelopeToJson(bundle.envelope),
  })}\n`;
}
