/**
 * The syscall bridge: the one pipeline every host call of every plugin passes.
 *
 *   authorise (trust) -> audit -> dispatch -> metrics
 *
 * Two entry points share it. {@link SyscallBridge.gateFor} returns the synchronous
 * {@link HostCallGate} that WASI preview1 and the forge/1 host functions call before
 * acting (they dispatch themselves, since they own guest memory). {@link
 * SyscallBridge.executeSyscall} runs a host call end to end, including calls a host
 * application registered with {@link SyscallBridge.register}: like Extism host
 * functions, but with an argument schema, a permission, policy and an audit trail.
 */
import {
  ForgeError,
  formatIssue,
  validate,
  type HostCallAccess,
  type HostCallDenial,
  type HostCallGate,
  type IdentityContext,
  type Schema,
} from '@forgeone/common';
import type { AnomalyDetector } from '../anomaly/index.js';
import type { AuditDecisionReport, AuditLevel } from '../audit/index.js';
import type { Requirement, ResourceKind } from '../trust/calls.js';
import type { Decision } from '../trust/policy.js';
import type { PluginTrust, TrustContext } from '../trust/trust-context.js';

/** One audit entry as the bridge hands it to the audit log. */
export type BridgeAuditEntry = AuditDecisionReport;

/**
 * Where the bridge writes audit entries: an {@link AuditLog} as it is, or a test
 * recorder. `record` may throw (backlog, write failure); the bridge then fails closed.
 */
export interface AuditPort {
  /** denials: only refusals; decisions: every evaluated decision (cache misses) and every refusal; all: every call. */
  readonly level: AuditLevel;
  record(entry: BridgeAuditEntry): void;
}

/** The denial returned when a decision could not be audited: no unaudited call runs. */
const AUDIT_FAILED: HostCallDenial = Object.freeze({ reason: 'the audit log cannot record this call, so it is refused (fail closed)' });

/** Per-call counters, read by the metrics exporter. */
export interface CallCounters {
  allowed: number;
  denied: number;
  errors: number;
}

/** A host call a host application adds. */
export interface HostCallDefinition<A> {
  /** `forge.<name>`: lower-case letters, digits and `_`. */
  readonly name: string;
  readonly description: string;
  /** Validates and normalises the arguments; invalid arguments never reach the handler. */
  readonly args: Schema<A>;
  /** Which permission makes the call available (default `explicit`: listed in permissions.syscalls). */
  readonly requires?: Requirement;
  /** What the call touches, for policy; with {@link resourceOf}. */
  readonly resource?: ResourceKind;
  /** Extracts the resource (path, host, key) from valid arguments. */
  readonly resourceOf?: (args: A) => string | undefined;
  readonly handler: (args: A, identity: IdentityContext) => unknown;
}

interface Registered {
  readonly definition: HostCallDefinition<unknown>;
}

/** Options for {@link SyscallBridge}. */
export interface BridgeOptions {
  readonly trust: TrustContext;
  readonly audit?: AuditPort;
  readonly anomaly?: AnomalyDetector;
}

const HOST_CALL_NAME = /^forge\.[a-z][a-z0-9_]{0,63}$/;

/** The syscall bridge. See the module comment. */
export class SyscallBridge {
  readonly trust: TrustContext;
  readonly #audit: AuditPort | undefined;
  readonly #anomaly: AnomalyDetector | undefined;
  readonly #calls = new Map<string, Registered>();
  readonly counters = new Map<string, CallCounters>();

  constructor(options: BridgeOptions) {
    this.trust = options.trust;
    this.#audit = options.audit;
    this.#anomaly = options.anomaly;
  }

  /**
   * Adds a host call. It becomes part of the policy catalog (so Cedar policies can
   * name it) and every cached decision is invalidated.
   * @throws ForgeError FO_SYSCALL_INVALID_NAME, FO_TRUST_CALL_CONFLICT
   */
  register<A>(definition: HostCallDefinition<A>): void {
    if (!HOST_CALL_NAME.test(definition.name)) {
      throw new ForgeError('FO_SYSCALL_INVALID_NAME', `host call names must look like forge.<lower_case_name>, found ${JSON.stringify(definition.name)}`);
    }
    const added = this.trust.catalog.register({ name: definition.name, resource: definition.resource ?? 'none', requires: definition.requires ?? 'explicit' });
    if (!added) throw new ForgeError('FO_TRUST_CALL_CONFLICT', `a host call named ${definition.name} already exists`, { details: { call: definition.name } });
    this.#calls.set(definition.name, { definition: definition as HostCallDefinition<unknown> });
    this.trust.invalidate();
  }

  /** The definition of a call added with {@link register}, for adapters that expose it to plugins. */
  definition(name: string): HostCallDefinition<unknown> | undefined {
    return this.#calls.get(name)?.definition;
  }

  /** The names of the calls added with {@link register}, sorted. */
  registeredNames(): string[] {
    return [...this.#calls.keys()].sort();
  }

  /** Removes a host call added with {@link register}. */
  unregister(name: string): void {
    if (this.#calls.delete(name)) {
      this.trust.catalog.unregister(name);
      this.trust.invalidate();
    }
  }

  /**
   * The gate for one plugin's WASI and forge/1 calls. Allowing a call whose decision
   * is cached allocates nothing; denials return the (shared) decision as the denial.
   */
  gateFor(plugin: PluginTrust, identity: IdentityContext): HostCallGate {
    const audit = this.#audit;
    const level = audit?.level ?? 'denials';
    const anomaly = this.#anomaly;
    const key = plugin.identity.digest;
    return {
      check: (call: string, resource?: string, access?: HostCallAccess): HostCallDenial | undefined => {
        const decision = plugin.decide(call, resource, access);
        this.#count(call, decision.allowed);
        anomaly?.observe(key, call, decision.allowed);
        if (audit !== undefined && (!decision.allowed || level === 'all' || (level === 'decisions' && plugin.lastMiss))) {
          try {
            audit.record({ identity, action: call, resource, allowed: decision.allowed, reason: decision.reason });
          } catch {
            // SECURITY: a call that must be audited and cannot be is refused.
            return AUDIT_FAILED;
          }
        }
        return decision.allowed ? undefined : decision;
      },
    };
  }

  /**
   * Runs a host call end to end for `identity`: validates the arguments, asks policy,
   * audits, dispatches to the handler, counts.
   *
   * @throws ForgeError FO_SYSCALL_UNKNOWN (no such call), FO_SYSCALL_INVALID_ARGS
   *   (every problem listed), FO_TRUST_DENIED (with the reason), or the handler's error
   */
  async executeSyscall(name: string, args: unknown, identity: IdentityContext): Promise<unknown> {
    const registered = this.#calls.get(name);
    if (registered === undefined) {
      throw new ForgeError('FO_SYSCALL_UNKNOWN', `no host call named ${JSON.stringify(name.slice(0, 80))} is registered`, { details: { call: name } });
    }
    const { definition } = registered;
    const checked = validate(definition.args, args);
    if (!checked.ok) {
      throw new ForgeError('FO_SYSCALL_INVALID_ARGS', `${name}: ${checked.issues.map(formatIssue).join('; ')}`, { details: { call: name, issues: checked.issues } });
    }
    const resource = definition.resourceOf?.(checked.value);
    const decision = this.trust.evaluate(identity, name, resource);
    this.#count(name, decision.allowed);
    if (identity.plugin !== undefined) this.#anomaly?.observe(identity.plugin.digest, name, decision.allowed);
    const audit = this.#audit;
    if (audit !== undefined && (!decision.allowed || audit.level !== 'denials')) {
      try {
        audit.record({ identity, action: name, resource, allowed: decision.allowed, reason: decision.reason });
      } catch (error) {
        // SECURITY: fail closed; the audit log's own error says why it cannot write.
        throw new ForgeError('FO_TRUST_DENIED', `${name} refused: the audit log cannot record it`, { details: { call: name }, cause: error });
      }
    }
    if (!decision.allowed) throw denied(name, resource, decision);
    try {
      return await definition.handler(checked.value, identity);
    } catch (error) {
      const counters = this.counters.get(name);
      if (counters !== undefined) counters.errors += 1;
      throw error;
    }
  }

  #count(call: string, allowed: boolean): void {
    let counters = this.counters.get(call);
    if (counters === undefined) {
      counters = { allowed: 0, denied: 0, errors: 0 };
      this.counters.set(call, counters);
    }
    if (allowed) counters.allowed += 1;
    else counters.denied += 1;
  }
}

function denied(call: string, resource: string | undefined, decision: Decision): ForgeError {
  return new ForgeError('FO_TRUST_DENIED', `${call}${resource === undefined ? '' : ` on ${JSON.stringify(resource.slice(0, 200))}`} denied: ${decision.reason}`, {
    details: { call, resource, by: decision.by, reason: decision.reason },
  });
}
