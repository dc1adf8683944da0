/**
 * Audit records for refused package loads (docs/audit.md, "Refused loads"). Denials
 * are always audited: a package the registry or the store refused (unsigned, untrusted,
 * revoked, tampered, asking for imports it was not granted, over a limit, a duplicate,
 * no room left) leaves one `deny` record naming what was offered (the source path, or
 * `package:sha256:<hex>` for bytes; the package's claimed name, version and content
 * digest as far as they could be read; the verified publisher once known) and the
 * refusal's code and message as the reason.
 */
import { createHash } from 'node:crypto';
import type { ForgeError, Logger, PluginIdentity } from '@forgeone/common';
import type { AuditLog } from '@forgeone/microkernel';
import { readPackage, type PackageLimits } from '../loader/index.js';

/** What a package says it is, read without trusting it. */
export interface PackageClaim {
  readonly name: string;
  readonly version: string;
  /** `sha256:<hex>` of the package's content (what a signature would cover). */
  readonly digest: string;
}

/** What is known about a load when it is refused; filled in as the load goes. */
export class LoadAttempt {
  /** The package's bytes, once read. */
  bytes: Uint8Array | undefined;
  claim: PackageClaim | undefined;
  /** The verified identity, once verification succeeded. */
  identity: PluginIdentity | undefined;

  constructor(readonly source: string | Uint8Array) {
    if (typeof source !== 'string') this.bytes = source;
  }

  /** Takes the claim from a verified identity. */
  verified(identity: PluginIdentity): void {
    this.identity = identity;
    this.claim = { name: identity.name, version: identity.version, digest: identity.digest };
  }

  /**
   * After verification failed: reads what the package claims to be, for the record.
   * Nothing when the package itself could not be read (the same error would recur).
   */
  async readClaim(error: ForgeError, limits: PackageLimits): Promise<void> {
    if (this.bytes === undefined || error.code.startsWith('FO_PACKAGE_') || error.code.startsWith('FO_MANIFEST_')) return;
    try {
      const contents = await readPackage(this.bytes, limits);
      this.claim = { name: contents.manifest.name, version: contents.manifest.version, digest: contents.digest };
    } catch {
      // The record then names the source only.
    }
  }

  /** The record's resource: the path asked for, or the sha256 of the bytes given. */
  resource(): string {
    if (typeof this.source === 'string') return this.source;
    return `package:sha256:${createHash('sha256').update(this.source).digest('hex')}`;
  }
}

/** Who refused what. */
export interface RefusalContext {
  readonly audit: AuditLog | undefined;
  /** The acting principal (`host:<name>`, `user:<name>`). */
  readonly principal: string;
  /** `plugin.load` (registry) or `store.install`, `store.rollback`. */
  readonly action: string;
  /** Told when the record cannot be written; the refusal stands either way. */
  readonly logger: Logger;
}

/**
 * Appends the denial record of a refused load. Never throws: the load is refused
 * whether or not the record could be written, and a failure to write is logged.
 */
export function auditRefusal(context: RefusalContext, attempt: LoadAttempt, error: ForgeError): void {
  const { audit } = context;
  if (audit === undefined || !audit.shouldRecord('denial')) return;
  const data: Record<string, string> = {};
  if (attempt.claim !== undefined) Object.assign(data, { name: attempt.claim.name, version: attempt.claim.version });
  if (attempt.identity !== undefined) data['publisher'] = attempt.identity.publisher;
  try {
    audit.append({
      principal: context.principal,
      ...(attempt.claim === undefined ? {} : { plugin: attempt.claim.digest }),
      action: context.action,
      resource: attempt.resource(),
      decision: 'deny',
      reason: `${error.code}: ${error.message}`,
      ...(Object.keys(data).length === 0 ? {} : { data }),
    });
  } catch (failure) {
    context.logger.error('a refused package load could not be audited', { action: context.action, code: error.code, error: String(failure) });
  }
}
