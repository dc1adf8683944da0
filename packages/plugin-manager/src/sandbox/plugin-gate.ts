/**
 * The policy gate of one hosted plugin, built inside the backend's thread: its own
 * TrustContext (the host identity, the operator policy, the plugin's signed ceiling),
 * a SyscallBridge whose audit port and anomaly detector report to the host, and the
 * {@link HostCallGate} every WASI and forge.* call of the plugin passes once. When the
 * spec asks, the bridge counts the plugin's host calls by decision (metrics) and the
 * gate reports each decision to a {@link HostCallRecorder} (tracing).
 */
import { ForgeError, IdentityContext, type HostCallGate } from '@forgeone/common';
import { AnomalyDetector, DecisionCounts, SyscallBridge, TrustContext, type Anomaly, type AuditPort, type BridgeAuditEntry, type OperatorPolicy } from '@forgeone/microkernel';
import { HostCallRecorder } from './host-call-trace.js';
import type { ThreadPolicy } from './policy.js';
import type { BackendHost, PluginSpec } from './spec.js';

/** An audit entry as {@link BackendHost.audit} takes it. */
export type BackendAuditEntry = Parameters<BackendHost['audit']>[0];

/** Where a plugin's gate reports. */
export interface GateSinks {
  /**
   * Records an audit entry. Throwing refuses the call being decided (fail closed): a
   * backend whose audit reaches the host asynchronously throws once it learns the
   * host's audit log has failed.
   */
  audit(entry: BackendAuditEntry): void;
  anomaly(anomaly: Anomaly): void;
}

/** One plugin's policy state in a backend thread. */
export class PluginGate {
  /** The identity the plugin acts under: the host's, narrowed to the plugin. */
  readonly identity: IdentityContext;
  /** The check every host call passes. */
  readonly gate: HostCallGate;
  readonly trust: TrustContext;
  readonly bridge: SyscallBridge;
  /** The plugin's host calls by call and decision; undefined unless the spec has countHostCalls. */
  readonly counts: DecisionCounts | undefined;
  /** Records the host calls of traced calls; undefined unless the spec has traceHostCalls. */
  readonly recorder: HostCallRecorder | undefined;

  /**
   * @throws ForgeError FO_IDENTITY_INVALID when the spec's identity is malformed
   */
  constructor(spec: PluginSpec, policy: ThreadPolicy, sinks: GateSinks) {
    const host = new IdentityContext(spec.host);
    this.identity = host.forPlugin(spec.identity);
    this.trust = new TrustContext(host, { catalog: policy.catalog, policy: policy.policy });
    const pluginTrust = this.trust.registerPlugin(spec.identity, spec.ceiling);
    const plugin = spec.id;
    const audit: AuditPort = {
      level: spec.auditLevel,
      record: (entry: BridgeAuditEntry) => {
        sinks.audit({ plugin, action: entry.action, resource: entry.resource, allowed: entry.allowed, reason: entry.reason, ...(entry.requested === undefined ? {} : { requested: entry.requested }) });
      },
    };
    const detection = spec.anomaly ?? { enabled: true, options: {} };
    const anomaly = detection.enabled ? new AnomalyDetector((found) => sinks.anomaly(found), detection.options) : undefined;
    anomaly?.start(spec.identity.digest);
    this.counts = spec.countHostCalls === true ? new DecisionCounts() : undefined;
    this.bridge = new SyscallBridge({ trust: this.trust, audit, ...(anomaly === undefined ? {} : { anomaly }), ...(this.counts === undefined ? {} : { counts: this.counts }) });
    const gate = this.bridge.gateFor(pluginTrust, this.identity);
    const catalog = policy.catalog;
    this.recorder = spec.traceHostCalls === true ? new HostCallRecorder((call) => catalog.get(call)?.resource ?? 'none') : undefined;
    this.gate = this.recorder === undefined ? gate : this.recorder.gate(gate);
  }

  /** Replaces the operator policy; every cached decision of the plugin is dropped. */
  setPolicy(policy: OperatorPolicy): void {
    this.trust.setPolicy(policy);
  }
}

/** The refusal an audit sink throws once the host's audit log is known to have failed. */
export function auditUnavailable(plugin: string): ForgeError {
  return new ForgeError('FO_AUDIT_WRITE_FAILED', `the host's audit log failed earlier, so calls of ${plugin} that must be audited are refused`, { details: { plugin } });
}
