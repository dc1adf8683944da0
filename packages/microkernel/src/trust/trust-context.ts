import type { HostCallAccess, IdentityContext, PluginIdentity } from '@forgeone/common';
import { CallCatalog } from './calls.js';
import type { Ceiling } from './ceiling.js';
import { DEFAULT_OPERATOR_POLICY, decide, type Decision, type OperatorPolicy } from './policy.js';

/** Arguments of {@link TrustContext.evaluateSyscall}: what the call touches and how. */
export interface SyscallArgs {
  readonly resource?: string;
  readonly access?: HostCallAccess;
}

/** Decision-cache counters. */
export interface CacheStats {
  hits: number;
  misses: number;
}

/** Most cached decisions per plugin; past it the plugin's cache starts over. */
export const MAX_CACHED_DECISIONS = 4096;

const HOST_ALLOWED: Decision = Object.freeze({ allowed: true, by: 'allow', reason: 'the host acts for itself' });
const UNKNOWN_PLUGIN: Decision = Object.freeze({ allowed: false, by: 'ceiling', reason: 'the plugin is not registered with this trust context' });

/**
 * One plugin's view of a {@link TrustContext}: its identity, its ceiling and its
 * decision cache. `decide` is the hot path of every host call: a cache hit is two Map
 * lookups and an epoch comparison (none when the call repeats the last one, with no
 * access: a guest's run of one host call), and allocates nothing.
 */
export class PluginTrust {
  readonly identity: PluginIdentity;
  readonly ceiling: Ceiling;
  readonly #context: TrustContext;
  #epoch = -1;
  #size = 0;
  readonly #cache = new Map<string, Map<string, Decision>>();
  /** True when the last {@link decide} computed its decision rather than reading the cache. */
  lastMiss = false;
  // The last call and resource decided without an access, and the decision: valid while the epoch is #epoch.
  #lastCall: string | undefined;
  #lastResource: string | undefined;
  #lastDecision: Decision | undefined;

  /** @internal Created by {@link TrustContext.registerPlugin}. */
  constructor(context: TrustContext, identity: PluginIdentity, ceiling: Ceiling) {
    this.#context = context;
    this.identity = identity;
    this.ceiling = ceiling;
  }

  /** Decides a call by this plugin. Cached per (call, resource, access) until the context's epoch changes. */
  decide(call: string, resource?: string, access?: HostCallAccess): Decision {
    const context = this.#context;
    if (this.#epoch !== context.epoch) {
      this.#cache.clear();
      this.#size = 0;
      this.#epoch = context.epoch;
      this.#lastDecision = undefined;
    }
    const last = this.#lastDecision;
    if (last !== undefined && access === undefined && call === this.#lastCall && resource === this.#lastResource) {
      context.stats.hits += 1;
      this.lastMiss = false;
      return last;
    }
    const key = access === undefined ? (resource ?? '') : `${resource ?? ''}\u0000${access}`;
    let byResource = this.#cache.get(call);
    const cached = byResource?.get(key);
    if (cached !== undefined) {
      context.stats.hits += 1;
      this.lastMiss = false;
      this.remember(call, resource, access, cached);
      return cached;
    }
    context.stats.misses += 1;
    this.lastMiss = true;
    const decision = decide({
      spec: context.catalog.get(call),
      call,
      resource,
      access,
      principal: this.identity,
      ceiling: this.ceiling,
      policy: context.policy,
    });
    if (this.#size >= MAX_CACHED_DECISIONS) {
      this.#cache.clear();
      this.#size = 0;
      byResource = undefined;
    }
    if (byResource === undefined) {
      byResource = new Map();
      this.#cache.set(call, byResource);
    }
    byResource.set(key, decision);
    this.#size += 1;
    this.remember(call, resource, access, decision);
    return decision;
  }

  /** Keeps `decision` as the last one (only for a call without an access: the common one). */
  private remember(call: string, resource: string | undefined, access: HostCallAccess | undefined, decision: Decision): void {
    if (access !== undefined) return;
    this.#lastCall = call;
    this.#lastResource = resource;
    this.#lastDecision = decision;
  }
}

/** Options for {@link TrustContext}. */
export interface TrustOptions {
  /** The calls policy knows; defaults to the built-in WASI and forge calls. */
  readonly catalog?: CallCatalog;
  /** The operator's policy; defaults to {@link DEFAULT_OPERATOR_POLICY}. */
  readonly policy?: OperatorPolicy;
}

/**
 * Zero-trust decisions for every plugin a host runs. Deny by default: a call is
 * allowed only when the plugin's signed ceiling, the operator's grants and Cedar
 * policies all allow it (see policy.ts for the exact procedure).
 *
 * Decisions are cached per plugin (keyed by package digest) and call, resource and
 * access; any change of policy, trust roots or plugins bumps one epoch counter, which
 * invalidates every cached decision at once.
 */
export class TrustContext {
  /** The host identity that owns this context. */
  readonly identity: IdentityContext;
  readonly catalog: CallCatalog;
  readonly stats: CacheStats = { hits: 0, misses: 0 };
  #policy: OperatorPolicy;
  #epoch = 0;
  readonly #plugins = new Map<string, PluginTrust>();

  constructor(identity: IdentityContext, options: TrustOptions = {}) {
    this.identity = identity;
    this.catalog = options.catalog ?? new CallCatalog();
    this.#policy = options.policy ?? DEFAULT_OPERATOR_POLICY;
  }

  /** Changes with every policy, trust-root or plugin change; cached decisions older than it are void. */
  get epoch(): number {
    return this.#epoch;
  }

  get policy(): OperatorPolicy {
    return this.#policy;
  }

  /** Replaces the operator policy and invalidates every cached decision. */
  setPolicy(policy: OperatorPolicy): void {
    this.#policy = policy;
    this.invalidate();
  }

  /** Invalidates every cached decision (trust roots changed, a call was registered, ...). */
  invalidate(): void {
    this.#epoch += 1;
  }

  /**
   * Registers a plugin with its signed ceiling and returns its bound view. Registering
   * the same digest again replaces it. Invalidates every cached decision.
   */
  registerPlugin(identity: PluginIdentity, ceiling: Ceiling): PluginTrust {
    const trust = new PluginTrust(this, identity, ceiling);
    this.#plugins.set(identity.digest, trust);
    this.invalidate();
    return trust;
  }

  /** Forgets a plugin; its later calls are denied. */
  unregisterPlugin(digest: string): void {
    if (this.#plugins.delete(digest)) this.invalidate();
  }

  /** The bound view of a registered plugin. */
  plugin(digest: string): PluginTrust | undefined {
    return this.#plugins.get(digest);
  }

  /**
   * Decides whether `identity` may perform `action` on `resource`. A host identity
   * (no plugin) acts for itself and is allowed; a plugin identity is decided by its
   * registered ceiling, the operator policy and Cedar; an unregistered plugin is denied.
   */
  evaluate(identity: IdentityContext, action: string, resource?: string, context: { readonly access?: HostCallAccess } = {}): Decision {
    if (identity.plugin === undefined) return HOST_ALLOWED;
    const trust = this.#plugins.get(identity.plugin.digest);
    return trust === undefined ? UNKNOWN_PLUGIN : trust.decide(action, resource, context.access);
  }

  /** {@link evaluate} with the seed's argument order: `evaluateSyscall(name, args, identity)`. */
  evaluateSyscall(name: string, args: SyscallArgs, identity: IdentityContext): Decision {
    return this.evaluate(identity, name, args.resource, args.access === undefined ? {} : { access: args.access });
  }
}
