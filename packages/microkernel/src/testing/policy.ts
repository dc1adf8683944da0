/**
 * A real policy for tests of what a plugin reaches: a TrustContext with the plugin's
 * ceiling and the operator's grant (and Cedar policies, if given), a SyscallBridge
 * gate, and an audit port that keeps every entry it is given.
 */
import { IdentityContext, type HostCallGate, type PluginIdentity } from '@forgeone/common';
import type { AuditLevel } from '../audit/index.js';
import { SyscallBridge, type BridgeAuditEntry } from '../bridge/index.js';
import { CedarPolicies, TrustContext, type Ceiling, type OperatorPolicy, type PluginGrant } from '../trust/index.js';

/** The test plugin's identity; grants are keyed by its name, `tester`. */
export const TEST_PLUGIN: PluginIdentity = { publisher: 'acme', name: 'tester', version: '1.0.0', digest: `sha256:${'5'.repeat(64)}`, attested: true };

/** What a test sets up. */
export interface RecordingPolicySetup {
  readonly ceiling?: Partial<Ceiling>;
  readonly grant?: PluginGrant;
  readonly networkAccess?: OperatorPolicy['networkAccess'];
  /** Cedar policies (forbid-only mode). */
  readonly cedar?: string;
  readonly auditLevel?: AuditLevel;
}

/** The parts a test inspects. */
export interface RecordingPolicy {
  readonly gate: HostCallGate;
  readonly audit: BridgeAuditEntry[];
  readonly bridge: SyscallBridge;
  /** The audited denials as [action, resource]. */
  denials(): (readonly [string, string | undefined])[];
}

/** Builds the policy. */
export function recordingPolicy(setup: RecordingPolicySetup = {}): RecordingPolicy {
  const host = new IdentityContext('test-host');
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
