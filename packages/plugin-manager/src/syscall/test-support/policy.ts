/**
 * A real policy for the host-call tests: a TrustContext with the plugin's ceiling and
 * the operator's grant, a SyscallBridge gate and an audit port that records every
 * entry it is given.
 */
import { IdentityContext, type PluginIdentity } from '@forgeone/common';
import { CedarPolicies, SyscallBridge, TrustContext, type AuditLevel, type BridgeAuditEntry, type Ceiling, type OperatorPolicy, type PluginGrant } from '@forgeone/microkernel';

/** The test plugin's identity; grants are keyed by its name, `tester`. */
export const TEST_PLUGIN: PluginIdentity = { publisher: 'acme', name: 'tester', version: '1.0.0', digest: `sha256:${'5'.repeat(64)}`, attested: true };

/** What a test sets up. */
export interface PolicySetup {
  readonly ceiling?: Partial<Ceiling>;
  readonly grant?: PluginGrant;
  readonly networkAccess?: OperatorPolicy['networkAccess'];
  /** Cedar policies (forbid-only mode). */
  readonly cedar?: string;
  readonly auditLevel?: AuditLevel;
}

/** The parts a test inspects. */
export interface Policy {
  readonly gate: ReturnType<SyscallBridge['gateFor']>;
  readonly audit: BridgeAuditEntry[];
  readonly bridge: SyscallBridge;
  /** The audited denials as [action, resource]. */
  denials(): (readonly [string, string | undefined])[];
}

/** Builds the policy. */
export function testPolicy(setup: PolicySetup = {}): Policy {
  const host = new IdentityContext('syscall-test-host');
  const trust = new TrustContext(host, { policy: { networkAccess: setup.networkAccess ?? 'restricted', grants: setup.grant === undefined ? {} : { [TEST_PLUGIN.name]: setup.grant } } });
  if (setup.cedar !== undefined) trust.setPolicy({ ...trust.policy, cedar: CedarPolicies.load(setup.cedar, trust.catalog) });
  const ceiling: Ceiling = { filesystem: [], network: [], allowed_hosts: [], syscalls: [], volumes: [], ...setup.ceiling };
  const pluginTrust = trust.registerPlugin(TEST_PLUGIN, ceiling);
  const audit: BridgeAuditEntry[] = [];
  const bridge = new SyscallBridge({ trust, audit: { level: setup.auditLevel ?? 'decisions', record: (entry) => audit.push(entry) } });
  return {
    gate: bridge.gateFor(pluginTrust, host.forPlugin(TEST_PLUGIN)),
    audit,
    bridge,
    denials: () => audit.filter((entry) => !entry.allowed).map((entry) => [entry.action, entry.resource] as const),
  };
}
