/**
 * The one pipeline every host-call decision passes after it was made, whichever entry
 * point made it (a plugin's gate, a refusal reported outside policy, a host call run
 * end to end):
 *
 *   count (metrics) -> observe (anomaly detection) -> audit (by level, failing closed) -> verdict
 *
 * The audit rule, the same on every path (docs/audit.md):
 * - a denial is recorded at every level;
 * - an allow that policy evaluated (a decision-cache miss, or a decision that is never
 *   cached) is a `decision`, recorded at levels `decisions` and `all`;
 * - an allow answered from the decision cache is a `call`, recorded at level `all` only.
 *
 * A passage that must be audited and cannot be is refused (fail closed).
 */
import type { HostCallDenial, IdentityContext } from '@forgeone/common';
import type { AnomalyDetector } from '../anomaly/index.js';
import { auditLevelAdmits, type AuditDecisionReport, type AuditEventClass, type AuditLevel } from '../audit/index.js';
import type { DecisionCounts } from './counts.js';

/** One audit entry as the bridge hands it to the audit log. */
export type BridgeAuditEntry = AuditDecisionReport;

/**
 * Where the bridge writes audit entries: an `AuditLog` as it is, or a test recorder.
 * `record` may throw (backlog, write failure); the bridge then fails closed.
 */
export interface AuditPort {
  /** Which passages are recorded; see the module comment. */
  readonly level: AuditLevel;
  /**
   * The port's clock (ms since the epoch), if it has one. A passage that is both observed
   * by anomaly detection and audited then reads it once, for both: the time goes to the
   * detector and to {@link record} as the entry's `at`, and the port must record that time.
   */
  readonly clock?: (() => number) | undefined;
  record(entry: BridgeAuditEntry): void;
}

/** What policy (or another refuser) said about one call. */
export interface Verdict {
  readonly allowed: boolean;
  readonly reason: string;
}

/** How a passage ended. */
export type Outcome = 'go' | 'denied' | 'unaudited';

/** The ports a passage reports to. */
export interface PipelinePorts {
  readonly audit: AuditPort | undefined;
  readonly anomaly: AnomalyDetector | undefined;
  /** Counts every passage by call and decision (counts.ts); undefined: not counted. */
  readonly counts: DecisionCounts | undefined;
}

/** The verdict when a passage that must be audited could not be: refused, whatever policy said. */
export const AUDIT_FAILED: HostCallDenial = Object.freeze({ reason: 'the audit log cannot record this call, so it is refused (fail closed)' });

/** The audit class of a verdict. */
export function auditClass(allowed: boolean, evaluated: boolean): AuditEventClass {
  return !allowed ? 'denial' : evaluated ? 'decision' : 'call';
}

/**
 * Runs one decided call through observation and audit. Positional, so that allowing a
 * call whose decision was cached allocates nothing.
 *
 * @param subject the key anomaly detection tracks the caller under (its package
 *   digest); undefined for the host itself
 * @param requested what the caller literally asked for; recorded only when it differs from `resource`
 * @param evaluated true when the verdict was evaluated now rather than read from a cache
 * @returns `go` when the call may proceed, `denied` when the verdict refused it,
 *   `unaudited` when it had to be audited and could not be (refused, fail closed)
 */
export function pass(
  ports: PipelinePorts,
  identity: IdentityContext,
  subject: string | undefined,
  call: string,
  resource: string | undefined,
  requested: string | undefined,
  verdict: Verdict,
  evaluated: boolean,
): Outcome {
  const allowed = verdict.allowed;
  ports.counts?.count(call, allowed);
  const audit = ports.audit;
  const audited = audit !== undefined && auditLevelAdmits(audit.level, auditClass(allowed, evaluated));
  const anomaly = subject === undefined ? undefined : ports.anomaly;
  // One clock read for detection and the record (the port's clock): a read costs 30 to 40 ns here.
  const at = audited && anomaly !== undefined ? audit.clock?.() : undefined;
  if (anomaly !== undefined && subject !== undefined) anomaly.observe(subject, call, allowed, at);
  if (audited) {
    try {
      // Fixed shapes rather than a spread: this runs once per audited host call.
      const reason = verdict.reason;
      const direct = requested === undefined || requested === resource;
      audit.record(
        at === undefined
          ? direct
            ? { identity, action: call, resource, allowed, reason }
            : { identity, action: call, resource, allowed, reason, requested }
          : direct
            ? { identity, action: call, resource, allowed, reason, at }
            : { identity, action: call, resource, allowed, reason, requested, at },
      );
    } catch {
      // SECURITY: a call that must be audited and cannot be is refused.
      return 'unaudited';
    }
  }
  return allowed ? 'go' : 'denied';
}
