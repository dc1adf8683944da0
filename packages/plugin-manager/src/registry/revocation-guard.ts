/**
 * Revocations from a marketplace reach what runs (docs/marketplace.md, "Revocation"):
 * the registry keeps the last verified list it was given, refuses to load a plugin it
 * covers (FO_MARKET_PLUGIN_REVOKED, audited as a refused `plugin.load`), and quarantines
 * a loaded one: its supervisor lets go of it (no restart), its state becomes Quarantined
 * (calls and lifecycle steps refused until an operator unloads it), its instance is
 * released without running any more of its code (no stop entry point: a revoked plugin
 * may be hostile), and a `plugin.revoke` deny record names the revocation.
 */
import type { Logger, PluginIdentity } from '@forgeone/common';
import type { AuditLog } from '@forgeone/microkernel';
import { PluginState } from '../lifecycle/index.js';
import { findRevocation, refuseRevoked, revokedError, type Revocation } from './marketplace/index.js';

export type { Revocation };
import type { PluginRecord } from './record.js';

/** The list the registry enforces. */
export class RevocationGuard {
  #revocations: readonly Revocation[] = [];
  #source = '';

  /** How many revocations are enforced, and from where. */
  get state(): { readonly count: number; readonly source: string } {
    return { count: this.#revocations.length, source: this.#source };
  }

  /** Replaces the enforced list (a refresh's verified index). */
  replace(revocations: readonly Revocation[], source: string): void {
    this.#revocations = [...revocations];
    this.#source = source;
  }

  /** @throws ForgeError FO_MARKET_PLUGIN_REVOKED when the list covers `identity` */
  check(identity: PluginIdentity): void {
    refuseRevoked(this.#revocations, identity, this.#source);
  }

  /** The records the list covers, with the revocation that covers each. */
  covered(records: Iterable<PluginRecord>): { readonly record: PluginRecord; readonly revocation: Revocation }[] {
    const found: { record: PluginRecord; revocation: Revocation }[] = [];
    for (const record of records) {
      if (record.kind !== 'wasm') continue; // native plugins are the host's own code
      const revocation = findRevocation(this.#revocations, record.identity);
      if (revocation !== undefined) found.push({ record, revocation });
    }
    return found;
  }
}

/** What quarantining a revoked plugin needs from the registry. */
export interface QuarantineParts {
  readonly audit: AuditLog | undefined;
  readonly principal: string;
  readonly logger: Logger;
  /** The supervisor's release: no restart of this plugin from now on. */
  readonly release: (record: PluginRecord) => void;
}

/**
 * Quarantines one revoked, loaded plugin and records why (see the module comment). Never
 * throws: the instance is released even when the record cannot be written (logged).
 */
export async function quarantineRevoked(record: PluginRecord, revocation: Revocation, source: string, parts: QuarantineParts): Promise<void> {
  const error = revokedError(record.identity, revocation, source);
  parts.release(record);
  record.controller.quarantine(error);
  try {
    await record.handle?.unload();
  } catch (failure) {
    parts.logger.warn('the instance of a revoked plugin could not be unloaded cleanly', { plugin: record.id, error: String(failure) });
  }
  record.handle = undefined;
  if (parts.audit === undefined) return;
  try {
    parts.audit.append({
      principal: parts.principal,
      plugin: record.identity.digest,
      action: 'plugin.revoke',
      resource: record.id,
      decision: 'deny',
      reason: `${error.code}: ${error.message}`,
      data: { name: record.identity.name, version: record.identity.version, publisher: record.identity.publisher, source },
    });
  } catch (failure) {
    parts.logger.error('the quarantine of a revoked plugin could not be audited', { plugin: record.id, error: String(failure) });
  }
}

/**
 * Replaces `guard`'s list and quarantines every loaded plugin it covers that is not
 * quarantined yet. @returns the ids quarantined now
 */
export async function enforceRevocations(guard: RevocationGuard, revocations: readonly Revocation[], source: string, records: Iterable<PluginRecord>, parts: QuarantineParts): Promise<string[]> {
  guard.replace(revocations, source);
  const covered = guard.covered(records).filter(({ record }) => record.controller.state !== PluginState.Quarantined && record.controller.state !== PluginState.Unloaded);
  for (const { record, revocation } of covered) await quarantineRevoked(record, revocation, source, parts);
  return covered.map(({ record }) => record.id);
}
