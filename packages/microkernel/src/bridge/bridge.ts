/**
 * The syscall bridge: every host call of every plugin passes it.
 *
 *   decide (trust) -> observe (anomaly) -> audit -> dispatch
 *
 * Three entry points share one pipeline (pipeline.ts), so the audit rule and the
 * fail-closed rule are the same on each. {@link SyscallBridge.gateFor} returns the
 * synchronous {@link HostCallGate} that WASI preview1 and the forge/1 host functions ask
 * before acting (they dispatch themselves, since they own guest memory), and through
 * which they report refusals made outside policy. {@link SyscallBridge.executeSyscall}
 * runs a call a host application registered with {@link SyscallBridge.register} end to
 * end: like Extism host functions, but with an argument schema ({@link
 * SyscallBridge.parseArgs}, the one place arguments are validated), a permission,
 * policy and an audit trail.
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
import type { Requirement, ResourceKind } from '../trust/calls.js';
import type { Decision } from '../trust/policy.js';
import type { PluginTrust, TrustContext } from '../trust/trust-context.js';
import type { DecisionCounts } from './counts.js';
import { AUDIT_FAILED, pass, type AuditPort, type PipelinePorts } from './pipeline.js';

export type { AuditPort, BridgeAuditEntry } from './pipeline.js';

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
  /** Counts every decision by call name and outcome, for metrics (default: not counted). */
  readonly counts?: DecisionCounts;
}

const HOST_CALL_NAME = /^forge\.[a-z][a-z0-9_]{0,63}$/;

/** The syscall bridge. See the module comment. */
export class SyscallBridge {
  readonly trust: TrustContext;
  readonly #ports: PipelinePorts;
  readonly #calls = new Map<string, Registered>();

  constructor(options: BridgeOptions) {
    this.trust = options.trust;
    this.#ports = { audit: options.audit, anomaly: options.anomaly, counts: options.counts };
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
   * Validates the arguments of a registered call against its schema: the one place
   * arguments of registered calls are checked, whichever way they arrive.
   *
   * @returns the definition and the normalised arguments
   * @throws ForgeError FO_SYSCALL_UNKNOWN (no such call), FO_SYSCALL_INVALID_ARGS (every problem listed)
   */
  parseArgs(name: string, args: unknown): { readonly definition: HostCallDefinition<unknown>; readonly args: unknown } {
    const registered = this.#calls.get(name);
    if (registered === undefined) {
      throw new ForgeError('FO_SYSCALL_UNKNOWN', `no host call named ${JSON.stringify(name.slice(0, 80))} is registered`, { details: { call: name.slice(0, 80) } });
    }
    const { definition } = registered;
    const checked = validate(definition.args, args);
    if (!checked.ok) {
      throw new ForgeError('FO_SYSCALL_INVALID_ARGS', `${name}: ${checked.issues.map(formatIssue).join('; ')}`, { details: { call: name, issues: checked.issues } });
    }
    return { definition, args: checked.value };
  }

  /**
   * The gate for one plugin's WASI and forge/1 calls. Allowing a call whose decision
   * is cached allocates nothing; denials return the (shared) decision as the denial.
   */
  gateFor(plugin: PluginTrust, identity: IdentityContext): HostCallGate {
    const ports = this.#ports;
    const subject = plugin.identity.digest;
    return {
      check: (call: string, resource?: string, access?: HostCallAccess, requested?: string): HostCallDenial | undefined => {
        const decision = plugin.decide(call, resource, access);
        const outcome = pass(ports, identity, subject, call, resource, requested, decision, plugin.lastMiss);
        return outcome === 'go' ? undefined : outcome === 'denied' ? decision : AUDIT_FAILED;
      },
      refuse: (call: string, resource: string | undefined, reason: string, requested?: string): void => {
        pass(ports, identity, subject, call, resource, requested, { allowed: false, reason }, true);
      },
    };
  }

  /**
   * Runs a host call end to end for `identity`: validates the arguments, asks policy,
   * observes and audits through the pipeline, dispatches to the handler.
   *
   * @throws ForgeError FO_SYSCALL_UNKNOWN (no such call), FO_SYSCALL_INVALID_ARGS
   *   (every problem listed), FO_TRUST_DENIED (with the reason, or because the audit
   *   log cannot record the call), or the handler's error
   */
  async executeSyscall(name: string, args: unknown, identity: IdentityContext): Promise<unknown> {
    const parsed = this.parseArgs(name, args);
    const resource = parsed.definition.resourceOf?.(parsed.args);
    const decision = this.trust.evaluate(identity, name, resource);
    const evaluated = identity.plugin === undefined || this.trust.plugin(identity.plugin.digest)?.lastMiss !== false;
    const outcome = pass(this.#ports, identity, identity.plugin?.digest, name, resource, undefined, decision, evaluated);
    if (outcome === 'unaudited') throw new ForgeError('FO_TRUST_DENIED', `${name} refused: the audit log cannot record it`, { details: { call: name } });
    if (outcome === 'denied') throw denied(name, resource, decision);
    return await parsed.definition.handler(parsed.args, identity);
  }
}

function denied(call: string, resource: string | undefined, decision: Decision): ForgeError {
  return new ForgeError('FO_TRUST_DENIED', `${call}${resource === undefined ? '' : ` on ${JSON.stringify(resource.slice(0, 200))}`} denied: ${decision.reason}`, {
    details: { call, resource, by: decision.by, reason: decision.reason },
  });
}
