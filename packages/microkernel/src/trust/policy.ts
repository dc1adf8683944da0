/**
 * The decision procedure, as a pure function of (ceiling, operator policy, plugin,
 * call, resource, access). Deny by default; each step can only narrow:
 *
 * 1. the call must be in the catalog;
 * 2. the plugin's signed permissions (the ceiling) must make it available and, for a
 *    path or host, cover that path or host;
 * 3. the operator's grants must allow it: a volume must be mapped by the operator
 *    (and mapped rw for a write), a host must be granted unless network_access is
 *    `full`, explicit calls must be in the grant's list when the grant has one;
 * 4. Cedar policies, when configured, must not forbid it (and must permit it in
 *    `require-permit` mode).
 */
import type { CallSpec } from './calls.js';
import type { CedarPolicies, CedarPrincipal } from './cedar.js';
import { matchesCallPattern, matchesHostPattern, volumeOf, type Ceiling } from './ceiling.js';

/** How the operator narrows one plugin (config `policy.grants.<plugin name>`). */
export interface PluginGrant {
  /**
   * The publisher whose plugin of this name the grant is for; absent: any publisher's.
   * A plugin of the name from another publisher is treated as having no grant.
   */
  readonly publisher?: string;
  /** Explicit calls allowed (exact names or `module.*`); absent means whatever the manifest declares. */
  readonly syscalls?: readonly string[];
  /** Hosts allowed (patterns); needed for any network use when network_access is `restricted`. */
  readonly hosts?: readonly string[];
  /** Host directories backing the plugin's volumes, by volume name; `ro` narrows a rw volume. */
  readonly volumes?: Readonly<Record<string, { readonly host: string; readonly mode: 'ro' | 'rw' }>>;
}

/** Everything an operator decides. */
export interface OperatorPolicy {
  /** `none`: no plugin uses the network; `restricted`: only granted hosts; `full`: the manifest's allowed_hosts. */
  readonly networkAccess: 'none' | 'restricted' | 'full';
  /** Grants by plugin name ({@link grantFor}). A plugin without one gets no volumes and, when restricted, no hosts. */
  readonly grants: Readonly<Record<string, PluginGrant>>;
  /** Cedar policies, if any. */
  readonly cedar?: CedarPolicies;
}

/** The most restrictive policy: no grants, no network, no Cedar. */
export const DEFAULT_OPERATOR_POLICY: OperatorPolicy = { networkAccess: 'restricted', grants: {} };

/** Which step decided. */
export type DecidedBy = 'catalog' | 'ceiling' | 'grant' | 'cedar' | 'allow';

/** A policy decision. Decisions are immutable and shared by the cache. */
export interface Decision {
  readonly allowed: boolean;
  /** Why, in a sentence an operator can act on. */
  readonly reason: string;
  readonly by: DecidedBy;
  /** For denials: the call exceeds a capability the plugin holds (a write to a read-only volume). */
  readonly capability?: boolean;
}

function deny(by: DecidedBy, reason: string, capability = false): Decision {
  return Object.freeze(capability ? { allowed: false, by, reason, capability } : { allowed: false, by, reason });
}

const ALLOWED: Decision = Object.freeze({ allowed: true, by: 'allow', reason: 'allowed by the manifest, the operator grants and policy' });

/** The inputs of one decision. */
export interface DecisionInput {
  readonly spec: CallSpec | undefined;
  readonly call: string;
  readonly resource: string | undefined;
  readonly access: 'read' | 'write' | undefined;
  readonly principal: CedarPrincipal;
  readonly ceiling: Ceiling;
  readonly policy: OperatorPolicy;
}

/**
 * The operator's grant for a plugin: the one under its name, when it names no publisher
 * or the plugin's. SECURITY: a package that takes an installed plugin's name but was
 * signed by someone else never receives that plugin's volumes or hosts.
 */
export function grantFor(grants: Readonly<Record<string, PluginGrant>>, principal: Pick<CedarPrincipal, 'name' | 'publisher'>): PluginGrant | undefined {
  const grant = Object.hasOwn(grants, principal.name) ? grants[principal.name] : undefined;
  return grant?.publisher === undefined || grant.publisher === principal.publisher ? grant : undefined;
}

/** Decides one call. Pure: the same input always gives the same decision. */
export function decide(input: DecisionInput): Decision {
  const { spec, call, resource, ceiling, policy, principal } = input;
  if (spec === undefined) return deny('catalog', `${call} is not a known host call`);
  const grant = grantFor(policy.grants, principal);
  const write = spec.requires === 'fs-write' || input.access === 'write';

  switch (spec.requires) {
    case 'none':
      break;
    case 'fs-read':
    case 'fs-write': {
      const needed = write ? 'write' : 'read';
      if (!ceiling.filesystem.includes(needed)) return deny('ceiling', `${call} needs permissions.filesystem to include "${needed}"`);
      if (spec.resource === 'path') {
        const verdict = checkPath(call, resource, write, ceiling, grant);
        if (verdict !== undefined) return verdict;
      }
      break;
    }
    case 'network': {
      if (!ceiling.network.includes('connect')) return deny('ceiling', `${call} needs permissions.network to include "connect"`);
      if (policy.networkAccess === 'none') return deny('grant', 'the operator set network_access: none');
      if (spec.resource === 'host') {
        const verdict = checkHost(call, resource, ceiling, policy, grant);
        if (verdict !== undefined) return verdict;
      }
      break;
    }
    case 'explicit': {
      if (!ceiling.syscalls.some((pattern) => matchesCallPattern(pattern, call))) return deny('ceiling', `${call} is not in permissions.syscalls`);
      if (grant?.syscalls !== undefined && !grant.syscalls.some((pattern) => matchesCallPattern(pattern, call))) {
        return deny('grant', `the operator's grant for ${principal.name} does not include ${call}`);
      }
      break;
    }
  }

  if (policy.cedar !== undefined) {
    const answer = policy.cedar.authorize(principal, spec, resource, input.access ?? (write ? 'write' : spec.resource === 'none' ? 'none' : 'read'));
    if (answer.errors.length > 0 && !answer.allowed) return deny('cedar', `Cedar evaluation failed (denied): ${answer.errors.join('; ')}`);
    if (!answer.allowed) {
      return deny('cedar', answer.policies.length > 0 ? `forbidden by Cedar policy ${answer.policies.join(', ')}` : 'no Cedar policy permits it');
    }
  }
  return ALLOWED;
}

function checkPath(call: string, path: string | undefined, write: boolean, ceiling: Ceiling, grant: PluginGrant | undefined): Decision | undefined {
  if (path === undefined) return deny('ceiling', `${call} needs a path`);
  const volume = volumeOf(ceiling.volumes, path);
  if (volume === undefined) return deny('ceiling', `${path} is outside every volume in permissions.volumes`);
  if (write && volume.mode !== 'rw') return deny('ceiling', `volume ${volume.name} is read-only in the manifest`, true);
  const mapped = grant?.volumes?.[volume.name];
  if (mapped === undefined) return deny('grant', `the operator has not mapped volume ${volume.name}`);
  if (write && mapped.mode !== 'rw') return deny('grant', `the operator mapped volume ${volume.name} read-only`, true);
  return undefined;
}

function checkHost(call: string, host: string | undefined, ceiling: Ceiling, policy: OperatorPolicy, grant: PluginGrant | undefined): Decision | undefined {
  if (host === undefined) return deny('ceiling', `${call} needs a host`);
  if (!ceiling.allowed_hosts.some((pattern) => matchesHostPattern(pattern, host))) return deny('ceiling', `${host} is not in permissions.allowed_hosts`);
  if (policy.networkAccess === 'restricted' && !(grant?.hosts ?? []).some((pattern) => matchesHostPattern(pattern, host))) {
    return deny('grant', `network_access is restricted and the operator has not granted ${host}`);
  }
  return undefined;
}
