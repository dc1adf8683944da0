/**
 * Audit levels: how much of what the host decides is written to the audit log.
 *
 * The syscall bridge classifies each call it handles into one {@link AuditEventClass}
 * and asks {@link auditLevelAdmits} (or `AuditLog.shouldRecord`) before it builds a
 * record, so a call the level does not keep costs one array read.
 */

/** The levels, from the least to the most recorded. */
export const AUDIT_LEVELS = ['denials', 'decisions', 'all'] as const;

/**
 * `denials`: only refused operations. `decisions` (the default): every decision policy
 * made (every denial, and every allow that the trust engine evaluated rather than
 * answered from its decision cache or a handle's rights). `all`: every host call,
 * including those allowed from the cache or by rights bound to an open handle.
 */
export type AuditLevel = (typeof AUDIT_LEVELS)[number];

/** The level used when none is configured. */
export const DEFAULT_AUDIT_LEVEL: AuditLevel = 'decisions';

/**
 * What happened, as far as the level is concerned:
 * - `denial`: an operation was refused (by policy, a limit, or a handle's rights);
 * - `decision`: policy evaluated a request and allowed it (a decision-cache miss), or a
 *   lifecycle or host event happened (install, start, stop, quarantine);
 * - `call`: a call was allowed without a new decision (a cache hit, an fd's rights).
 */
export type AuditEventClass = 'denial' | 'decision' | 'call';

/** True when a log at `level` records an event of class `event`. Denials are recorded at every level. */
export function auditLevelAdmits(level: AuditLevel, event: AuditEventClass): boolean {
  // Ranked denial (0) < decision (1) < call (2); a level records its own rank and below.
  // Comparisons, not lookups in a table keyed by the strings: this runs once per host call,
  // and a keyed lookup there was a megamorphic inline cache in profiles.
  const rank = event === 'denial' ? 0 : event === 'decision' ? 1 : 2;
  return rank <= (level === 'denials' ? 0 : level === 'decisions' ? 1 : 2);
}

/** True when `value` names an audit level. */
export function isAuditLevel(value: unknown): value is AuditLevel {
  return typeof value === 'string' && (AUDIT_LEVELS as readonly string[]).includes(value);
}
