/**
 * DSSE, the Dead Simple Signing Envelope (github.com/secure-systems-lab/dsse, v1.0):
 * a signature covers PAE(payloadType, payload), never the payload alone, so a
 * signature made for one payload type can never be replayed as another.
 */
import { signBytes, verifyBytes, type PrivateKey, type PublicKey } from './crypto.js';

/** The payload type of an in-toto statement. */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** A DSSE envelope with its payload and signatures decoded from base64. */
export interface Envelope {
  readonly payloadType: string;
  readonly payload: Buffer;
  readonly signatures: readonly { readonly keyid: string; readonly sig: Buffer }[];
}

/**
 * The pre-authentication encoding:
 * `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths in ASCII decimal bytes.
 */
export function preAuthEncoding(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `, 'latin1'), type, Buffer.from(` ${payload.length} `, 'latin1'), payload]);
}

/** Signs a payload; the signature's keyid is the signing key's id. */
export function signEnvelope(payloadType: string, payload: Uint8Array, key: PrivateKey): Envelope {
  return {
    payloadType,
    payload: Buffer.from(payload),
    signatures: [{ keyid: key.publicKey.keyid, sig: signBytes(key, preAuthEncoding(payloadType, payload)) }],
  };
}

/**
 * True when `signature` signs the envelope's PAE with `key`. The envelope's `keyid`
 * is an unauthenticated hint and plays no part in the decision.
 */
export function verifyEnvelopeSignature(envelope: Envelope, signature: Uint8Array, key: PublicKey): boolean {
  return verifyBytes(key, preAuthEncoding(envelope.payloadType, envelope.payload), signature);
}

/** The JSON form of an envelope (base64 payload and signatures), as Sigstore bundles and revocation lists hold it. */
export function envelopeToJson(envelope: Envelope): { payload: string; payloadType: string; signatures: { keyid: string; sig: string }[] } {
  return {
    payload: envelope.payload.toString('base64'),
    payloadType: envelope.payloadType,
    signatures: envelope.signatures.map((signature) => ({ keyid: signature.keyid, sig: signature.sig.toString('base64') })),
  };
}
