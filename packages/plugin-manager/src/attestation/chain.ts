/**
 * Certificate path building and validation (after RFC 5280 section 6, reduced to
 * what code signing needs). A path runs from the signer's leaf through zero or more
 * intermediates to a trust root; names must match byte for byte and every signature
 * must verify. Then, for every certificate at the verification time:
 *
 * - it is inside its validity period, root included;
 * - it has no critical extension we do not understand;
 * - an issuer is a CA (basicConstraints cA), may sign certificates (keyUsage
 *   keyCertSign when keyUsage is present), and its pathLenConstraint admits the
 *   intermediates below it; if it restricts extendedKeyUsage, codeSigning (or
 *   anyExtendedKeyUsage) is among them;
 * - the leaf is not a CA, may sign (digitalSignature when keyUsage is present) and
 *   lists codeSigning in extendedKeyUsage (anyExtendedKeyUsage is not enough).
 *
 * Not checked: name constraints and certificate policies (refused when critical),
 * CRL distribution points and OCSP (revocation is the trust store's signed list).
 */
import { ForgeError, type ErrorCode } from '@forgeone/common';
import { OID } from './oid.js';
import type { Certificate } from './x509.js';

/** Longest path accepted, leaf and root included. */
export const MAX_CHAIN_LENGTH = 8;
/** Most candidate issuers tried while building one path; bounds the search over look-alike intermediates. */
const MAX_SEARCH_STEPS = 256;

/** What chain validation needs from the trust store. */
export interface ChainContext {
  readonly roots: readonly Certificate[];
  /** Intermediates from the bundle and the trust store; untrusted, used for path building only. */
  readonly intermediates: readonly Certificate[];
  /** Verification time, ms since the epoch. */
  readonly now: number;
  /** True when `issuer`'s key verifies `child`'s signature (cached by the trust store). */
  issued(child: Certificate, issuer: Certificate): boolean;
}

/** A validated path: leaf first, trust root last. */
export interface CertificatePath {
  readonly certificates: readonly Certificate[];
  readonly root: Certificate;
}

function describe(certificate: Certificate): string {
  return `"${certificate.subject.text || '(empty subject)'}" (serial ${certificate.serial})`;
}

function chainError(code: ErrorCode, message: string, certificate: Certificate, extra: Record<string, unknown> = {}): ForgeError {
  return new ForgeError(code, message, {
    details: { subject: certificate.subject.text, serial: certificate.serial, fingerprint: certificate.fingerprint, ...extra },
  });
}

interface SearchState {
  signatureFailure: { child: Certificate; issuer: Certificate } | undefined;
  tooLong: boolean;
  deadEnd: Certificate | undefined;
  steps: number;
}

function search(path: Certificate[], context: ChainContext, state: SearchState): CertificatePath | undefined {
  const current = path[path.length - 1] as Certificate;
  for (const root of context.roots) {
    if (!root.subject.der.equals(current.issuer.der)) continue;
    if (context.issued(current, root)) {
      return { certificates: current.fingerprint === root.fingerprint ? path : [...path, root], root };
    }
    state.signatureFailure ??= { child: current, issuer: root };
  }
  if (path.length >= MAX_CHAIN_LENGTH - 1) {
    state.tooLong = true;
    return undefined;
  }
  let candidates = 0;
  for (const candidate of context.intermediates) {
    if (!candidate.subject.der.equals(current.issuer.der) || path.some((entry) => entry.fingerprint === candidate.fingerprint)) continue;
    candidates += 1;
    // SECURITY: many intermediates sharing a name and key could make the search
    // combinatorial; past the budget the chain is treated as too long.
    state.steps += 1;
    if (state.steps > MAX_SEARCH_STEPS) {
      state.tooLong = true;
      return undefined;
    }
    if (!context.issued(current, candidate)) {
      state.signatureFailure ??= { child: current, issuer: candidate };
      continue;
    }
    const found = search([...path, candidate], context, state);
    if (found !== undefined) return found;
  }
  if (candidates === 0) state.deadEnd ??= current;
  return undefined;
}

/**
 * Finds a path from `leaf` to a trust root.
 * @throws ForgeError FO_SIGNER_UNTRUSTED (no path), FO_CHAIN_SIGNATURE, FO_CHAIN_TOO_LONG
 */
export function buildPath(leaf: Certificate, context: ChainContext): CertificatePath {
  const state: SearchState = { signatureFailure: undefined, tooLong: false, deadEnd: undefined, steps: 0 };
  const path = search([leaf], context, state);
  if (path !== undefined) return path;
  if (state.signatureFailure !== undefined) {
    const { child, issuer } = state.signatureFailure;
    throw chainError('FO_CHAIN_SIGNATURE', `the signature on ${describe(child)} does not verify with the key of its issuer ${describe(issuer)}`, child, {
      issuer: issuer.subject.text,
    });
  }
  if (state.tooLong) throw chainError('FO_CHAIN_TOO_LONG', `the chain of ${describe(leaf)} is longer than ${MAX_CHAIN_LENGTH} certificates`, leaf);
  const end = state.deadEnd ?? leaf;
  const selfSigned = end.issuer.der.equals(end.subject.der);
  throw chainError(
    'FO_SIGNER_UNTRUSTED',
    selfSigned
      ? `the signer's chain ends at the self-signed ${describe(end)}, which is not a root in the trust store`
      : `the signer's chain ends at ${describe(end)}, whose issuer "${end.issuer.text}" is neither a trust-store root nor a supplied intermediate`,
    leaf,
    { chainEnd: end.subject.text },
  );
}

/**
 * Checks every certificate of a path at `now`, from the root down.
 * @throws ForgeError FO_CHAIN_EXPIRED, FO_CHAIN_NOT_YET_VALID, FO_CHAIN_CRITICAL_EXTENSION,
 *   FO_CHAIN_NOT_CA, FO_CHAIN_KEY_USAGE, FO_CHAIN_PATH_LENGTH, FO_CHAIN_EKU
 */
export function checkPath(path: CertificatePath, now: number): void {
  const certificates = path.certificates;
  for (let index = certificates.length - 1; index >= 0; index -= 1) {
    const certificate = certificates[index] as Certificate;
    const at = new Date(now).toISOString();
    if (now > certificate.notAfter) {
      throw chainError('FO_CHAIN_EXPIRED', `${describe(certificate)} expired at ${new Date(certificate.notAfter).toISOString()}; verification time is ${at}`, certificate, {
        notAfter: new Date(certificate.notAfter).toISOString(),
      });
    }
    if (now < certificate.notBefore) {
      throw chainError('FO_CHAIN_NOT_YET_VALID', `${describe(certificate)} is valid only from ${new Date(certificate.notBefore).toISOString()}; verification time is ${at}`, certificate, {
        notBefore: new Date(certificate.notBefore).toISOString(),
      });
    }
    const critical = certificate.unhandledCriticalExtensions[0];
    if (critical !== undefined) {
      throw chainError('FO_CHAIN_CRITICAL_EXTENSION', `${describe(certificate)} has critical extension ${critical}, which ForgeOne does not understand`, certificate, {
        extension: critical,
      });
    }
    const eku = certificate.extKeyUsage;
    if (index > 0) {
      if (certificate.basicConstraints?.ca !== true) {
        throw chainError('FO_CHAIN_NOT_CA', `${describe(certificate)} issued another certificate but is not a CA (basicConstraints cA is not set)`, certificate);
      }
      if (certificate.keyUsage !== undefined && !certificate.keyUsage.has('keyCertSign')) {
        throw chainError('FO_CHAIN_KEY_USAGE', `${describe(certificate)} is a CA whose keyUsage lacks keyCertSign`, certificate);
      }
      const below = index - 1;
      const pathLen = certificate.basicConstraints.pathLen;
      if (pathLen !== undefined && below > pathLen) {
        throw chainError(
          'FO_CHAIN_PATH_LENGTH',
          `${describe(certificate)} allows ${pathLen} intermediate CA${pathLen === 1 ? '' : 's'} below it (pathLenConstraint), but the chain has ${below}`,
          certificate,
          { pathLen, intermediatesBelow: below },
        );
      }
      if (eku !== undefined && !eku.includes(OID.codeSigning) && !eku.includes(OID.anyExtendedKeyUsage)) {
        throw chainError('FO_CHAIN_EKU', `${describe(certificate)} restricts extendedKeyUsage to purposes that exclude codeSigning`, certificate);
      }
    } else {
      if (certificate.basicConstraints?.ca === true) {
        throw chainError('FO_CHAIN_KEY_USAGE', `${describe(certificate)} is a CA certificate; packages must be signed with a publisher certificate (forge ca issue)`, certificate);
      }
      if (certificate.keyUsage !== undefined && !certificate.keyUsage.has('digitalSignature')) {
        throw chainError('FO_CHAIN_KEY_USAGE', `${describe(certificate)} has a keyUsage without digitalSignature`, certificate);
      }
      if (eku === undefined || !eku.includes(OID.codeSigning)) {
        throw chainError('FO_CHAIN_EKU', `${describe(certificate)} does not list codeSigning (1.3.6.1.5.5.7.3.3) in extendedKeyUsage`, certificate);
      }
    }
  }
}

/**
 * Builds and checks the path from `leaf` to a trust root.
 * @throws ForgeError the codes of {@link buildPath} and {@link checkPath}
 */
export function validateChain(leaf: Certificate, context: ChainContext): CertificatePath {
  const path = buildPath(leaf, context);
  checkPath(path, context.now);
  return path;
}
