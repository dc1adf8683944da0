/**
 * The operator policy rebuilt inside a backend's thread from its data form
 * ({@link PolicySpec}), and the call catalog it is decided against.
 *
 * Cedar policies are parsed and validated against a catalog's schema, so the catalog
 * must hold every host call a plugin can make, the registered ones included, before
 * the policies load. Loading Cedar costs milliseconds; a thread hosting thousands of
 * plugins under one policy loads it once: {@link PolicyCache} keeps one catalog and one
 * operator policy per distinct (policy, registered calls) pair.
 */
import { ForgeError } from '@forgeone/common';
import { CallCatalog, CedarPolicies, type CallSpec, type OperatorPolicy } from '@forgeone/microkernel';
import type { PluginSpec, PolicySpec } from './spec.js';

/** How a registered call named without a CallSpec is catalogued: SyscallBridge.register's defaults. */
const DEFAULT_REGISTERED: Omit<CallSpec, 'name'> = Object.freeze({ resource: 'none', requires: 'explicit' });

/** Names the host may register: `forge.<lower_case_name>`, as SyscallBridge.register requires. */
const REGISTERED_NAME = /^forge\.[a-z][a-z0-9_]{0,63}$/;

/** A registered call as a full CallSpec. */
export function registeredSpec(entry: string | CallSpec, catalog: CallCatalog): CallSpec {
  if (typeof entry !== 'string') return entry;
  return catalog.get(entry) ?? { name: entry, ...DEFAULT_REGISTERED };
}

/**
 * A catalog of the built-in calls plus `registered`.
 * @throws ForgeError FO_SYSCALL_INVALID_NAME for a name that is not `forge.<name>`,
 *   FO_TRUST_CALL_CONFLICT when a CallSpec contradicts a built-in call of the same name
 */
export function catalogWith(registered: readonly (string | CallSpec)[]): CallCatalog {
  const catalog = new CallCatalog();
  for (const entry of registered) {
    const spec = registeredSpec(entry, catalog);
    if (!REGISTERED_NAME.test(spec.name)) {
      throw new ForgeError('FO_SYSCALL_INVALID_NAME', `registered host calls must look like forge.<lower_case_name>, found ${JSON.stringify(spec.name.slice(0, 80))}`, {
        details: { call: spec.name.slice(0, 80) },
      });
    }
    const existing = catalog.get(spec.name);
    if (existing === undefined) catalog.register(spec);
    else if (existing.resource !== spec.resource || existing.requires !== spec.requires) {
      throw new ForgeError(
        'FO_TRUST_CALL_CONFLICT',
        `${spec.name} is a built-in call (resource ${existing.resource}, requires ${existing.requires}); the spec says resource ${spec.resource}, requires ${spec.requires}`,
        { details: { call: spec.name } },
      );
    }
  }
  return catalog;
}

/**
 * Checks that `policy` loads against each distinct set of registered calls among `specs`
 * (Cedar is validated against the catalog), so that a backend switches all its plugins
 * to it or none.
 * @throws ForgeError FO_TRUST_POLICY_INVALID, and what loading Cedar throws
 */
export function checkPolicyFor(policy: PolicySpec, specs: Iterable<PluginSpec>): void {
  const checked = new Set<string>();
  for (const spec of specs) {
    const key = JSON.stringify(spec.hostCalls.registered);
    if (checked.has(key)) continue;
    checked.add(key);
    operatorPolicy(policy, catalogWith(spec.hostCalls.registered));
  }
}

/**
 * Gives `policy` to every plugin record of a backend once {@link checkPolicyFor} passed
 * for all of them: when it does not load for one, no record changes.
 * @throws ForgeError FO_TRUST_POLICY_INVALID, and what loading Cedar throws
 */
export function adoptPolicy(policy: PolicySpec, records: Iterable<{ spec: PluginSpec }>): void {
  const all = [...records];
  checkPolicyFor(policy, all.map((record) => record.spec));
  for (const record of all) record.spec = { ...record.spec, policy };
}

/**
 * The operator policy `spec` describes, its Cedar text validated against `catalog`.
 * @throws ForgeError FO_TRUST_POLICY_INVALID listing every Cedar problem
 */
export function operatorPolicy(spec: PolicySpec, catalog: CallCatalog): OperatorPolicy {
  const cedar = spec.cedar === undefined ? undefined : CedarPolicies.load(spec.cedar.text, catalog, spec.cedar.mode, spec.cedar.source);
  return { networkAccess: spec.networkAccess, grants: spec.grants, ...(cedar === undefined ? {} : { cedar }) };
}

/** A catalog and the policy decided against it. */
export interface ThreadPolicy {
  readonly catalog: CallCatalog;
  readonly policy: OperatorPolicy;
}

/**
 * One thread's policies, shared by every plugin with the same policy and registered
 * calls. Entries are kept while any plugin uses them; {@link retain} and
 * {@link release} count the users.
 */
export class PolicyCache {
  readonly #entries = new Map<string, { readonly key: string; readonly value: ThreadPolicy; users: number }>();

  /** Keys the cache: the policy and the registered calls, as canonical-enough JSON. */
  static key(policy: PolicySpec, registered: readonly (string | CallSpec)[]): string {
    return JSON.stringify([policy.networkAccess, policy.grants, policy.cedar ?? null, registered]);
  }

  /**
   * The catalog and policy for `policy` and `registered`, built on first use; counts one more user.
   * @throws ForgeError as {@link catalogWith} and {@link operatorPolicy}
   */
  retain(policy: PolicySpec, registered: readonly (string | CallSpec)[]): { readonly key: string; readonly value: ThreadPolicy } {
    const key = PolicyCache.key(policy, registered);
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      const catalog = catalogWith(registered);
      entry = { key, value: { catalog, policy: operatorPolicy(policy, catalog) }, users: 0 };
      this.#entries.set(key, entry);
    }
    entry.users += 1;
    // The entry's own key string: each of its users holds that one, not a copy.
    return { key: entry.key, value: entry.value };
  }

  /** Drops one user of `key`; the entry goes with its last user. */
  release(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    entry.users -= 1;
    if (entry.users <= 0) this.#entries.delete(key);
  }

  /** Distinct policies held. */
  get size(): number {
    return this.#entries.size;
  }
}
