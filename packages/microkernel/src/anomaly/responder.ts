import { MetricType, TelemetryEvent, type TelemetryBus } from '@forgeone/common';
import type { AuditSink } from '../audit/index.js';
import type { Anomaly } from './detector.js';

/** What to do about an anomaly besides recording it. */
export type AnomalyAction = 'alert' | 'quarantine';

/** Where a finding goes. */
export interface AnomalyResponderOptions {
  /** Receives a `security.anomaly` event per finding. */
  readonly telemetry: TelemetryBus;
  /** Receives a `security.anomaly` audit record per finding (recorded at every level). */
  readonly audit?: AuditSink;
  readonly action: AnomalyAction;
  /** Called with the plugin key (its package digest) when the action is `quarantine`. */
  readonly quarantine?: (plugin: string, anomaly: Anomaly) => void;
  /** The principal to record for a plugin key, e.g. `plugin:acme/notes@1.0.0`. */
  readonly principalOf?: (plugin: string) => string;
}

/**
 * The report callback for an {@link AnomalyDetector}: every finding becomes a security
 * telemetry event and an audit record, and with action `quarantine` the plugin is
 * quarantined. A failure to audit is not allowed to stop the quarantine.
 */
export function anomalyResponder(options: AnomalyResponderOptions): (anomaly: Anomaly) => void {
  return (anomaly) => {
    options.telemetry.record(
      new TelemetryEvent('security.anomaly', MetricType.Event, 1, { kind: anomaly.kind, call: anomaly.call, plugin: anomaly.plugin, action: options.action }, anomaly.at),
    );
    try {
      options.audit?.append({
        principal: options.principalOf?.(anomaly.plugin) ?? `plugin-digest:${anomaly.plugin}`,
        ...(/^sha256:[0-9a-f]{64}$/.test(anomaly.plugin) ? { plugin: anomaly.plugin } : {}),
        action: 'security.anomaly',
        resource: anomaly.call,
        decision: options.action === 'quarantine' ? 'deny' : 'allow',
        reason: `${anomaly.kind}: ${anomaly.detail}`,
        data: { kind: anomaly.kind, response: options.action },
      });
    } finally {
      if (options.action === 'quarantine') options.quarantine?.(anomaly.plugin, anomaly);
    }
  };
}
