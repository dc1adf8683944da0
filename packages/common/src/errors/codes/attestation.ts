import type { ErrorSpec } from '../spec.js';

/**
 * Codes for signing, verification, trust store and revocation.
 *
 * Verification failures ("the package or its signature is broken") have kind
 * `integrity`; refusals by trust or policy ("we chose not to trust this signer")
 * have kind `denied`, so the CLI exits 5 for the first and 4 for the second.
 */
export const ATTESTATION_CODES = {
  FO_KEY_INVALID: {
    kind: 'invalid',
    summary: 'A key file is not a PEM or DER private key (PKCS#8, SEC1, PKCS#1) or public key (SPKI), or it is encrypted.',
  },
  FO_KEY_UNSUPPORTED: {
    kind: 'invalid',
    summary: 'A key uses an algorithm ForgeOne does not accept (signing: Ed25519, ECDSA P-256; certificates also ECDSA P-384 and RSA of 2048 bits or more).',
  },
  FO_KEY_MISMATCH: {
    kind: 'invalid',
    summary: 'A certificate does not hold the public key of the private key it is used with.',
  },
  FO_CERT_INVALID: {
    kind: 'invalid',
    summary: 'A certificate is not a well-formed X.509 certificate in PEM or DER; the message names the malformed field.',
  },
  FO_CA_INVALID: {
    kind: 'invalid',
    summary: 'A CA directory lacks ca.pem or ca.key, or its certificate cannot issue what was asked (not a CA, wrong key, pathLen exhausted).',
  },
  FO_SIGN_CERTIFICATE: {
    kind: 'invalid',
    summary: 'The certificate given to forge sign cannot sign packages (a CA, no codeSigning usage, outside its validity, or the chain does not link).',
  },
  FO_BUNDLE_MALFORMED: {
    kind: 'integrity',
    summary: 'An attestation is not a well-formed Sigstore bundle (bad JSON, missing or mistyped fields); details.issues lists every one.',
  },
  FO_BUNDLE_UNSUPPORTED: {
    kind: 'integrity',
    summary: 'An attestation is a Sigstore bundle of a kind ForgeOne does not verify (keyed bundles must be v0.3 with a DSSE envelope).',
  },
  FO_VERIFY_PAYLOAD_TYPE: {
    kind: 'integrity',
    summary: 'The DSSE envelope\'s payloadType is not application/vnd.in-toto+json.',
  },
  FO_VERIFY_SIGNATURE: {
    kind: 'integrity',
    summary: 'The DSSE signature does not verify with the signer\'s key: the payload was altered or another key signed it.',
  },
  FO_VERIFY_STATEMENT_INVALID: {
    kind: 'integrity',
    summary: 'The signed payload is not an in-toto Statement v1 with the ForgeOne plugin predicate, or its predicate disagrees with its subjects.',
  },
  FO_VERIFY_WRONG_PACKAGE: {
    kind: 'integrity',
    summary: 'The signed statement is about another plugin (name or version differ), e.g. a signature copied from another package.',
  },
  FO_VERIFY_DIGEST_MISMATCH: {
    kind: 'integrity',
    summary: 'A package file\'s sha256 differs from the digest the signature covers (the file was changed after signing).',
  },
  FO_VERIFY_FILE_MISSING: {
    kind: 'integrity',
    summary: 'A file the signature covers is missing from the package.',
  },
  FO_VERIFY_FILE_UNSIGNED: {
    kind: 'integrity',
    summary: 'The package holds a file outside attestations/ that the signature does not cover (a file was added after signing).',
  },
  FO_VERIFY_UNSIGNED: {
    kind: 'denied',
    summary: 'The package has no attestation, and signatures are required (security.verify_signatures).',
  },
  FO_CHAIN_EXPIRED: {
    kind: 'integrity',
    summary: 'A certificate in the signer\'s chain expired before the verification time.',
  },
  FO_CHAIN_NOT_YET_VALID: {
    kind: 'integrity',
    summary: 'A certificate in the signer\'s chain is not valid yet at the verification time.',
  },
  FO_CHAIN_NOT_CA: {
    kind: 'integrity',
    summary: 'A certificate that issued another one is not a CA (basicConstraints cA is absent or false).',
  },
  FO_CHAIN_PATH_LENGTH: {
    kind: 'integrity',
    summary: 'A CA certificate\'s pathLenConstraint allows fewer intermediate CAs below it than the chain has.',
  },
  FO_CHAIN_KEY_USAGE: {
    kind: 'integrity',
    summary: 'A certificate\'s keyUsage or basicConstraints forbid its role (a CA without keyCertSign, a signer without digitalSignature, a CA as signer).',
  },
  FO_CHAIN_EKU: {
    kind: 'integrity',
    summary: 'The signing certificate lacks the codeSigning extended key usage, or a CA above it restricts usages to exclude it.',
  },
  FO_CHAIN_SIGNATURE: {
    kind: 'integrity',
    summary: 'A certificate\'s signature does not verify with its issuer\'s key, or uses an algorithm ForgeOne does not verify.',
  },
  FO_CHAIN_CRITICAL_EXTENSION: {
    kind: 'integrity',
    summary: 'A certificate in the chain has a critical extension ForgeOne does not understand, so it cannot be honoured.',
  },
  FO_CHAIN_TOO_LONG: {
    kind: 'limit',
    summary: 'The signer\'s certificate chain is longer than 8 certificates.',
  },
  FO_SIGNER_UNTRUSTED: {
    kind: 'denied',
    summary: 'The signer is not trusted: its chain reaches no root in the trust store, or its key hint names no trusted key.',
  },
  FO_SIGNER_NOT_ALLOWED: {
    kind: 'denied',
    summary: 'The signature verifies, but the signer policy does not list its publisher.',
  },
  FO_SIGNER_THRESHOLD: {
    kind: 'denied',
    summary: 'Fewer distinct allowed publishers signed the package than the signer policy\'s threshold requires.',
  },
  FO_SIGNER_POLICY_INVALID: {
    kind: 'invalid',
    summary: 'The signer policy file is not valid JSON or breaks its schema; details.issues lists every problem.',
  },
  FO_REVOKED_CERTIFICATE: {
    kind: 'denied',
    summary: 'A certificate in the signer\'s chain has a serial number on the trust store\'s revocation list.',
  },
  FO_REVOKED_KEY: {
    kind: 'denied',
    summary: 'The signing key\'s id is on the trust store\'s revocation list.',
  },
  FO_REVOKED_PACKAGE: {
    kind: 'denied',
    summary: 'The package\'s content digest is on the trust store\'s revocation list.',
  },
  FO_REVOCATION_INVALID: {
    kind: 'integrity',
    summary: 'The trust store\'s revocation list is malformed or not signed by one of its roots, so nothing can be verified.',
  },
  FO_REVOCATION_ENTRY_INVALID: {
    kind: 'invalid',
    summary: 'A revocation entry to add is malformed (a serial that is not hex, a key id that is not 64 hex digits, a digest that is not sha256:<hex>).',
  },
  FO_REVOCATION_EXPIRED: {
    kind: 'unavailable',
    summary: 'The trust store\'s revocation list is past its next_update time; publish a fresh one.',
  },
  FO_TRUSTSTORE_INVALID: {
    kind: 'invalid',
    summary: 'The trust store holds an unexpected entry or a malformed one (a root that is not a self-signed CA, a bad key, a bad trusted_root.json).',
  },
  FO_KEYLESS_VERIFICATION: {
    kind: 'integrity',
    summary: 'A keyless Sigstore bundle fails verification (Fulcio chain, SCT, Rekor inclusion proof or promise, signature); details.sigstoreCode says which.',
  },
  FO_KEYLESS_IDENTITY: {
    kind: 'denied',
    summary: 'A keyless signer\'s certificate identity (subjectAlternativeName, OIDC issuer) matches no identity the policy allows.',
  },
} as const satisfies Record<string, ErrorSpec>;
