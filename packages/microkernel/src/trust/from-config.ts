import { ANY_PUBLISHER, type ForgeConfig } from '@forgeone/common';
import type { CallCatalog } from './calls.js';
import { CedarPolicies } from './cedar.js';
import type { OperatorPolicy, PluginGrant } from './policy.js';

/** The operator's grants (`policy.grants`) as policy decides with them: a grant for any publisher (`*`) names none. */
export function grantsFromConfig(config: Pick<ForgeConfig, 'policy'>): Record<string, PluginGrant> {
  const grants: Record<string, PluginGrant> = {};
  for (const [name, grant] of Object.entries(config.policy.grants)) {
    grants[name] = {
      ...(grant.publisher === ANY_PUBLISHER ? {} : { publisher: grant.publisher }),
      ...(grant.syscalls === undefined ? {} : { syscalls: grant.syscalls }),
      hosts: grant.hosts,
      volumes: grant.volumes,
    };
  }
  return grants;
}

/**
 * The operator policy described by a normalised configuration. Pure: the caller (a
 * composition root) reads the Cedar file named by `policy.cedar` and passes its text.
 *
 * @throws ForgeError FO_TRUST_POLICY_INVALID when the Cedar text does not validate
 */
export function operatorPolicyFromConfig(config: Pick<ForgeConfig, 'policy' | 'sandbox'>, catalog: CallCatalog, cedarText?: string): OperatorPolicy {
  const grants = grantsFromConfig(config);
  const cedar =
    cedarText === undefined ? undefined : CedarPolicies.load(cedarText, catalog, config.policy.cedar_mode, config.policy.cedar ?? 'cedar policies');
  return { networkAccess: config.sandbox.network_access, grants, ...(cedar === undefined ? {} : { cedar }) };
}
