/**
 * Whether a plugin is revoked by an index's revocations. Pure, so the daemon and the
 * store (which stop and quarantine what is revoked) and `forge search` agree.
 */
import type { Revocation } from './index-format.js';

/** What a revocation is matched against: a plugin's verified identity. */
export interface RevocationSubject {
  readonly publisher: string;
  readonly name: string;
  readonly version: string;
  /** The package's content digest, `sha256:<hex>`. */
  readonly digest: string;
}

/**
 * True when `revocation` covers `subject`: every field the revocation names matches
 * (publisher, plugin name, version, digest); a field it leaves out matches anything.
 * A revocation names at least a publisher or a plugin (the index format requires it).
 */
export function revocationCovers(revocation: Revocation, subject: RevocationSubject): boolean {
  return (
    (revocation.publisher === undefined || revocation.publisher === subject.publisher) &&
    (revocation.plugin === undefined || revocation.plugin === subject.name) &&
    (revocation.version === undefined || revocation.version === subject.version) &&
    (revocation.digest === undefined || revocation.digest === subject.digest)
  );
}

/** The first revocation that covers `subject`, if any. */
export function findRevocation(revocations: readonly Revocation[], subject: RevocationSubject): Revocation | undefined {
  return revocations.find((revocation) => revocationCovers(revocation, subject));
}
