/**
 * What an audit record says: the entry a caller appends, how its fields are encoded
 * (by hand, see format.ts), and the parsed form readers such as `forge audit tail` use.
 */
import { ForgeError, type IdentityContext } from '@forgeone/common';
import { jsonString, type RecordType } from './format.js';

/** The outcome an audit record reports. */
export type AuditDecision = 'allow' | 'deny';

/** Extra facts on a record: flat, JSON-safe values (an anomaly's rate, a limit). */
export type AuditData = Readonly<Record<string, string | number | boolean | null>>;

/** Who acted, as recorded: {@link IdentityContext.principal} and, when a plugin acts, its package digest. */
export interface AuditIdentity {
  readonly principal: string;
  /** `sha256:<64 hex>`, the acting plugin's package digest. */
  readonly plugin?: string | undefined;
}

/**
 * One thing to audit. Strings may come from a plugin (a path, a host name): they are
 * escaped on the way in, and a `resource` or `reason` longer than {@link MAX_TEXT}
 * characters (a string `data` value longer than 1024) is cut with a `…[+N]` marker
 * saying how much was cut, so one record is at most about 250 KiB.
 */
export interface AuditEntry extends AuditIdentity {
  /** The operation: `wasi_snapshot_preview1.path_open`, `forge.kv_get`, `plugin.lifecycle.start`. At most 256 characters. */
  readonly action: string;
  /** What the operation touched, in the form policy matched it (a guest path, `fd:3`, a host, `kv:<key>`). */
  readonly resource?: string | undefined;
  readonly decision: AuditDecision;
  /** Why: the policy step that decided, or the denial's reason. */
  readonly reason?: string | undefined;
  /** At most 32 keys of `[a-z_][a-z0-9_]*`, up to 64 characters each. */
  readonly data?: AuditData | undefined;
}

/** Longest resource, reason or data string kept whole, in UTF-16 code units. */
export const MAX_TEXT = 4096;
const MAX_ACTION = 256;
const MAX_PRINCIPAL = 1024;
const MAX_DATA_KEYS = 32;
const DATA_KEY = /^[a-z_][a-z0-9_]{0,63}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** The identity fields of a record for `identity`; compute it once per plugin, not per call. */
export function auditIdentity(identity: IdentityContext): AuditIdentity {
  return identity.plugin === undefined ? { principal: identity.principal } : { principal: identity.principal, plugin: identity.plugin.digest };
}

function invalid(message: string, field: string): ForgeError {
  return new ForgeError('FO_AUDIT_RECORD_INVALID', `audit entry: ${message}`, { details: { field } });
}

/** Longest string `data` value kept whole. */
const MAX_DATA_TEXT = 1024;

/** `text`, cut as a record's resource or reason is cut (at `max` characters, with a `…[+N]` marker). */
export function bounded(text: string, max = MAX_TEXT): string {
  return text.length <= max ? text : `${text.slice(0, max)}…[+${text.length - max}]`;
}

function encodeData(data: AuditData): string {
  const keys = Object.keys(data);
  if (keys.length > MAX_DATA_KEYS) throw invalid(`data has ${keys.length} keys; at most ${MAX_DATA_KEYS} are allowed`, 'data');
  let out = '';
  for (const key of keys) {
    if (!DATA_KEY.test(key)) throw invalid(`data key ${JSON.stringify(key.slice(0, 80))} is not [a-z_][a-z0-9_]* of at most 64 characters`, 'data');
    const value = data[key];
    let encoded: string;
    if (typeof value === 'string') encoded = jsonString(bounded(value, MAX_DATA_TEXT));
    else if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw invalid(`data.${key} must be a finite number, found ${String(value)}`, 'data');
      encoded = String(value);
    } else if (typeof value === 'boolean') encoded = value ? 'true' : 'false';
    else if (value === null) encoded = 'null';
    else throw invalid(`data.${key} must be a string, number, boolean or null, found ${typeof value}`, 'data');
    out += `${out === '' ? '' : ','}"${key}":${encoded}`;
  }
  return `{${out}}`;
}

/**
 * The identity fields of an event record: `,"principal":…[,"plugin":…]`. The result
 * depends only on the identity, so a caller may cache it per identity.
 *
 * @throws ForgeError FO_AUDIT_RECORD_INVALID for a principal that is not 1 to 1024
 *   characters or a plugin that is not `sha256:<64 hex>`
 */
export function encodeIdentityFields(principal: string, plugin: string | undefined): string {
  // A plugin's calls repeat the same two strings: remember the last pair (strings are immutable).
  if (lastIdentity !== undefined && principal === lastIdentity.principal && plugin === lastIdentity.plugin) return lastIdentity.fields;
  const fields = identityFields(principal, plugin);
  lastIdentity = { principal, plugin, fields };
  return fields;
}

/** The identity fields of a bridge report, encoded once per IdentityContext object (a plugin's calls share one). */
export class IdentityFieldCache {
  readonly #fields = new WeakMap<IdentityContext, string>();
  get(identity: IdentityContext): string {
    let fields = this.#fields.get(identity);
    if (fields === undefined) {
      fields = encodeIdentityFields(identity.principal, identity.plugin?.digest);
      this.#fields.set(identity, fields);
    }
    return fields;
  }
}

let lastIdentity: { readonly principal: string; readonly plugin: string | undefined; readonly fields: string } | undefined;

function identityFields(principal: string, plugin: string | undefined): string {
  if (typeof principal !== 'string' || principal.length === 0 || principal.length > MAX_PRINCIPAL) {
    throw invalid(`principal must be 1 to ${MAX_PRINCIPAL} characters`, 'principal');
  }
  if (plugin === undefined) return `,"principal":${jsonString(principal)}`;
  if (typeof plugin !== 'string' || !DIGEST.test(plugin)) throw invalid('plugin must be sha256:<64 lowercase hex>', 'plugin');
  return `,"principal":${jsonString(principal)},"plugin":"${plugin}"`;
}

/**
 * The fields of an event record after its identity:
 * `,"action":…[,"resource":…],"decision":…[,"reason":…][,"data":{…}]`.
 *
 * @throws ForgeError FO_AUDIT_RECORD_INVALID for an action that is not 1 to 256
 *   characters, a decision other than allow/deny, a non-string resource or reason, or
 *   malformed data
 */
export function encodeEventTail(
  action: string,
  resource: string | undefined,
  decision: AuditDecision,
  reason: string | undefined,
  data: AuditData | undefined,
): string {
  if (typeof action !== 'string' || action.length === 0 || action.length > MAX_ACTION) {
    throw invalid(`action must be 1 to ${MAX_ACTION} characters`, 'action');
  }
  if (decision !== 'allow' && decision !== 'deny') throw invalid(`decision must be "allow" or "deny", found ${JSON.stringify(decision)}`, 'decision');
  let out = `,"action":${jsonString(action)}`;
  if (resource !== undefined) {
    if (typeof resource !== 'string') throw invalid('resource must be a string', 'resource');
    out += `,"resource":${jsonString(bounded(resource))}`;
  }
  out += decision === 'allow' ? ',"decision":"allow"' : ',"decision":"deny"';
  if (reason !== undefined) {
    if (typeof reason !== 'string') throw invalid('reason must be a string', 'reason');
    out += `,"reason":${jsonString(bounded(reason))}`;
  }
  if (data !== undefined) {
    if (typeof data !== 'object' || data === null || Array.isArray(data)) throw invalid('data must be an object', 'data');
    out += `,"data":${encodeData(data)}`;
  }
  return out;
}

/**
 * Every field of an event record after its head (identity, then the rest).
 * @throws ForgeError FO_AUDIT_RECORD_INVALID as {@link encodeIdentityFields} and {@link encodeEventTail}
 */
export function encodeEventFields(entry: AuditEntry): string {
  const tail = encodeEventTail(entry.action, entry.resource, entry.decision, entry.reason, entry.data);
  return `${encodeIdentityFields(entry.principal, entry.plugin)}${tail}`;
}

/**
 * A policy decision as the syscall bridge reports it; structurally the bridge's
 * `BridgeAuditEntry`, so an {@link AuditLog} can be the bridge's audit port.
 */
export interface AuditDecisionReport {
  readonly identity: IdentityContext;
  readonly action: string;
  readonly resource: string | undefined;
  readonly allowed: boolean;
  readonly reason: string;
  /**
   * What the plugin literally asked for, when it differs from `resource` (a raw path
   * before links were followed and `..` resolved, a URL): recorded as `data.requested`.
   */
  readonly requested?: string | undefined;
  /**
   * When the reporter read the log's own clock for this report (`AuditLog.clock`, in ms
   * since the epoch): the record's time, so that the clock is read once per call. Absent:
   * the log reads its clock.
   */
  readonly at?: number | undefined;
}

/** Fields every record has. */
export interface AuditRecordBase {
  /** 1 for the first record, then +1 per record across every segment. */
  readonly seq: number;
  /** ISO-8601 UTC with milliseconds. */
  readonly ts: string;
  readonly prev: string;
  readonly hash: string;
}

/** A host or plugin operation. */
export interface AuditEventRecord extends AuditRecordBase, AuditEntry {
  readonly type: 'event';
}

/** A signed checkpoint: `sig` signs (seq - 1, prev), see {@link checkpointStatement}. */
export interface AuditCheckpointRecord extends AuditRecordBase {
  readonly type: 'checkpoint';
  /** Key id: `sha256:<hex>` of the Ed25519 public key in SPKI DER form. */
  readonly key: string;
  /** Base64 Ed25519 signature. */
  readonly sig: string;
}

/** Written on open when a torn tail was cut: says what was cut and where the bytes were kept. */
export interface AuditRecoveryRecord extends AuditRecordBase {
  readonly type: 'recovery';
  readonly reason: string;
  /** Segment file the bytes were cut from (its name at the time). */
  readonly file: string;
  readonly cut_offset: number;
  readonly cut_bytes: number;
  readonly cut_sha256: string;
  /** File name, next to the log, holding the cut bytes. */
  readonly saved_to: string;
}

/** First record of every segment after the first: the log was rotated. */
export interface AuditSegmentRecord extends AuditRecordBase {
  readonly type: 'segment';
  /** 1-based index of the segment this record starts. */
  readonly segment: number;
}

/** A parsed audit record. */
export type AuditRecord = AuditEventRecord | AuditCheckpointRecord | AuditRecoveryRecord | AuditSegmentRecord;

const HEX64 = /^[0-9a-f]{64}$/;

function field<T>(object: Record<string, unknown>, key: string, check: (value: unknown) => value is T): T {
  const value = object[key];
  if (!check(value)) throw new ForgeError('FO_AUDIT_RECORD_CORRUPT', `audit record field ${key} is missing or has the wrong type`, { details: { field: key } });
  return value;
}
const isString = (value: unknown): value is string => typeof value === 'string';
const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/**
 * Parses one line (without its newline) into a record. Checks the shape only, not the
 * hash or the chain: use `verifyAuditLog` for that.
 *
 * @throws ForgeError FO_AUDIT_RECORD_CORRUPT when the line is not a JSON object with
 *   the fields its type requires.
 */
export function parseAuditRecord(line: string): AuditRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (error) {
    throw new ForgeError('FO_AUDIT_RECORD_CORRUPT', `audit record is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ForgeError('FO_AUDIT_RECORD_CORRUPT', 'audit record is not a JSON object');
  }
  const object = parsed as Record<string, unknown>;
  const base = {
    seq: field(object, 'seq', isCount),
    ts: field(object, 'ts', isString),
    prev: field(object, 'prev', (v): v is string => isString(v) && HEX64.test(v)),
    hash: field(object, 'hash', (v): v is string => isString(v) && HEX64.test(v)),
  };
  const type = field(object, 'type', isString) as RecordType;
  switch (type) {
    case 'event':
      field(object, 'principal', isString);
      field(object, 'action', isString);
      field(object, 'decision', (v): v is AuditDecision => v === 'allow' || v === 'deny');
      return object as unknown as AuditEventRecord;
    case 'checkpoint':
      return { ...base, type, key: field(object, 'key', isString), sig: field(object, 'sig', isString) };
    case 'recovery':
      return {
        ...base,
        type,
        reason: field(object, 'reason', isString),
        file: field(object, 'file', isString),
        cut_offset: field(object, 'cut_offset', isCount),
        cut_bytes: field(object, 'cut_bytes', isCount),
        cut_sha256: field(object, 'cut_sha256', isString),
        saved_to: field(object, 'saved_to', isString),
      };
    case 'segment':
      return { ...base, type, segment: field(object, 'segment', isCount) };
    default:
      throw new ForgeError('FO_AUDIT_RECORD_CORRUPT', `audit record has unknown type ${JSON.stringify(String(type).slice(0, 40))}`, { details: { field: 'type' } });
  }
}
