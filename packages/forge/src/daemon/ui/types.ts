/**
 * The API's shapes as the dashboard reads them (docs/reference/http-api.md). Values come
 * off the network: the dashboard checks what it relies on and shows the rest through
 * format.ts `plain`, so a daemon older or newer than the page degrades, never breaks it.
 */

/** The roles, lowest first. */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** True when `held` is at least `needed`. */
export function roleAllows(held: Role, needed: Role): boolean {
  return ROLES.indexOf(held) >= ROLES.indexOf(needed);
}

/** GET /v1/info. */
export interface Info {
  readonly version: string;
  readonly pid: number;
  readonly startedAt: string;
  readonly principal: string;
  readonly role: Role;
}

/** A plugin (GET /v1/plugins). */
export interface PluginView {
  readonly name: string;
  readonly version: string;
  readonly publisher: string;
  readonly attested: boolean;
  readonly digest: string;
  readonly state: string;
  readonly desired: string;
  readonly restarts: number;
  readonly installedAt: string;
  readonly previousVersion: string | null;
  readonly loadError: { readonly code: string; readonly message: string } | null;
}

/** One plugin's figures (GET /v1/stats). */
export interface PluginStats {
  readonly name: string;
  readonly calls: number;
  readonly errors: number;
  readonly callsPerSecond: number;
  readonly p50Seconds: number;
  readonly p99Seconds: number;
  readonly memoryBytes: number;
  readonly fuelTotal: number;
}

/** GET /v1/stats. */
export interface Stats {
  readonly time: string | number;
  readonly plugins: readonly PluginStats[];
}

/** An audit record (`event: audit`, GET /v1/audit). */
export interface AuditRecord {
  readonly seq: number;
  readonly ts: string;
  readonly principal: string;
  readonly action: string;
  readonly resource?: string;
  readonly decision: string;
  readonly reason?: string;
}

/** `event: lifecycle`. */
export interface LifecycleEvent {
  readonly time: string;
  readonly plugin: string;
  readonly from: string;
  readonly to: string;
  readonly step: string;
  readonly error?: unknown;
}

/** `event: plugin` (forge.emit_event). */
export interface PluginEvent {
  readonly time: string;
  readonly plugin: string;
  readonly name: string;
  /** Base64. */
  readonly payload: string;
}

/** GET /v1/audit/verify. */
export interface Verification {
  readonly ok: boolean;
  readonly records: number;
  readonly checkpoints: number;
  readonly lastCheckpointAge?: number | string;
  readonly firstBad?: { readonly seq: number; readonly reason: string };
}

/** A list change of a permission diff. */
export interface ListChange {
  readonly added: readonly string[];
  readonly removed: readonly string[];
}

/** A volume of a permission diff. */
export interface Volume {
  readonly name: string;
  readonly path: string;
  readonly mode: string;
}

/** What an upgrade asks for beyond the installed version (docs/store.md). */
export interface PermissionDiff {
  readonly filesystem?: ListChange;
  readonly network?: ListChange;
  readonly allowed_hosts?: ListChange;
  readonly syscalls?: ListChange;
  readonly volumes?: { readonly added?: readonly Volume[]; readonly removed?: readonly Volume[]; readonly changed?: readonly { readonly name: string; readonly from: Volume; readonly to: Volume }[] };
  readonly threads?: { readonly from: boolean; readonly to: boolean };
  readonly widens?: boolean;
  readonly escalations?: readonly string[];
}

/** A refused upgrade kept for approval (GET /v1/upgrades). */
export interface Upgrade {
  readonly id: string;
  readonly name: string;
  readonly from: string | null;
  readonly to: string;
  readonly publisher: string;
  readonly diff: PermissionDiff | null;
  readonly receivedAt: string;
  readonly by: string;
}

/** The object `value` is, or an empty one. */
export function record(value: unknown): Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** The array `value` is, or an empty one. */
export function list(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? (value as unknown[]) : [];
}
