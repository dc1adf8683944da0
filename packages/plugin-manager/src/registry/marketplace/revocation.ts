/**
 * Whether a plugin is revoked by an index's revocations. Pure, so the daemon and the
 * store (which stop and quarantine what is revoked) and `forge search` agree.
 */
import { ForgeError } from '@forgeone/common';
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

/** What a revocation says, for messages and records. */
function describeRevocation(revocation: Revocation): string {
  const what = [revocation.publisher === undefined ? '' : `publisher ${revocation.publisher}`, revocation.plugin ?? '', revocation.version ?? '', revocation.digest ?? ''].filter((part) => part !== '').join(' ');
  return `${what} (revoked ${revocation.date}: ${revocation.reason})`;
}

/** The error a plugin `revocation` covers gets wherever it is refused (load, install, pull, its quarantine). */
export function revokedError(subject: RevocationSubject, revocation: Revocation, source: string): ForgeError {
  return new ForgeError('FO_MARKET_PLUGIN_REVOKED', `plugin ${subject.name} ${subject.version} from ${subject.publisher} is revoked by ${source}: ${describeRevocation(revocation)}`, {
    details: { plugin: subject.name, version: subject.version, publisher: subject.publisher, digest: subject.digest, source, revocation },
  });
}

/** @throws ForgeError FO_MARKET_PLUGIN_REVOKED ({@link revokedError}) when one of `revocations` covers `subject` */
export function refuseRevoked(revocations: readonly Revocation[], subject: RevocationSubject, source: string): void {
  const revocation = findRevocation(revocations, subject);
  if (revocation !== undefined) throw revokedError(subject, revocation, source);
}
