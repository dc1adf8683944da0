/**
 * What the host accepts from a confined sandbox, checked field by field: its telemetry
 * (audit entries, logs, events, anomalies, host-call counts, a folding call's running
 * counts), the host calls a traced
 * call recorded, and the HTTP hops it asks the host to make. The sandbox may be
 * compromised (a plugin that escaped the wasm sandbox runs its code), so every value is
 * hostile until checked here; anything malformed is a protocol violation, which costs
 * the sandbox its life (relay.ts).
 */
import { LOG_LEVELS, isErrorCode } from '@forgeone/common';
import type { AnomalyKind, AuditData } from '@forgeone/microkernel';
import { FORBIDDEN_REQUEST_HEADERS, HTTP_METHODS, type ExplicitHosts, type HttpHop, type HttpLimits } from '../../syscall/index.js';
import { FOLDED_ACTION, MAX_FOLDED_KEYS, MAX_KEY_RESOURCE, type FoldProgress, type FoldedCount } from '../audit-fold.js';
import type { TelemetryItem, TraceMessage } from '../pool-protocol.js';
import { MAX_TRACED_HOST_CALLS, type HostCallRecord, type PluginSpec } from '../spec.js';
import { HOST_CALL_FUEL } from '../../abi/index.js';
import { MAX_TELEMETRY_ITEMS, fromJsonBytes, violation } from './wire.js';

/** Longest string field the host takes from a sandbox (reasons, messages, paths), in UTF-16 units. */
const MAX_TEXT = 64 * 1024;

/**
 * The header limits a plugin's own forge.http_request is held to (decodeHttpRequest,
 * syscall/http-request.ts): a hop from a compromised sandbox gets no looser ones.
 */
const MAX_HOP_HEADERS = 64;
const MAX_HOP_HEADER_VALUE = 8192;
const HOP_HEADER_VALUE = /^[\t\x20-\x7e]*$/;

type Json = Record<string, unknown>;

function object(value: unknown, what: string): Json {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array) throw violation(`${what}: expected an object`);
  return value as Json;
}

function text(value: unknown, what: string, max = MAX_TEXT): string {
  if (typeof value !== 'string' || value.length > max) throw violation(`${what}: expected a string of at most ${max} characters`);
  return value;
}

function optionalText(value: unknown, what: string): string | undefined {
  return value === undefined || value === null ? undefined : text(value, what);
}

function finite(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw violation(`${what}: expected a finite number`);
  return value;
}

function count(value: unknown, what: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) throw violation(`${what}: expected a whole number`);
  return value as number;
}

function bytes(value: unknown, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw violation(`${what}: expected bytes`);
  return value;
}

const DATA_KEY = /^[a-z_][a-z0-9_]{0,63}$/;

/**
 * The data of a sandbox's `audit.folded` summary (audit-fold.ts), held to what the audit
 * log takes (at most 32 keys of [a-z_][a-z0-9_]*, string, finite number, boolean or null
 * values), so a hostile sandbox cannot make the host's log refuse a record (which would
 * stop every audited call).
 */
function auditData(value: unknown, what: string): AuditData {
  const data = object(value, what);
  const keys = Object.keys(data);
  if (keys.length > MAX_FOLDED_KEYS) throw violation(`${what}: expected at most ${MAX_FOLDED_KEYS} keys`);
  const checked: Record<string, string | number | boolean | null> = {};
  for (const key of keys) {
    if (!DATA_KEY.test(key)) throw violation(`${what}: a key is not [a-z_][a-z0-9_]* of at most 64 characters`);
    const field = data[key];
    checked[key] = typeof field === 'string' ? text(field, `${what}.${key}`, 1024) : typeof field === 'boolean' || field === null ? field : finite(field, `${what}.${key}`);
  }
  return checked;
}

/** What the host knows of the plugins a sandbox hosts. */
export interface SandboxPlugins {
  /** True when the sandbox hosts a plugin with this id. */
  has(id: string): boolean;
  /** True when the host, not the sandbox, decides `call` for plugin `id` (registered calls, forge.http_request). */
  decidedByHost(id: string, call: string): boolean;
  /**
   * How plugin `id` folds its calls' allowed records: `kept` one by one (its
   * auditMaxCallRecords), and at most `calls` host calls per call (what its fuel pays
   * for); undefined when it folds none.
   */
  folding(id: string): { readonly kept: number; readonly calls: number } | undefined;
}

/** How the plugin of `spec` folds (SandboxPlugins.folding): undefined when it folds none. */
export function foldingOf(spec: PluginSpec): { readonly kept: number; readonly calls: number } | undefined {
  return spec.auditMaxCallRecords === undefined ? undefined : { kept: spec.auditMaxCallRecords, calls: spec.fuelExport === undefined ? Number.MAX_SAFE_INTEGER : Number(spec.fuelPerCall / HOST_CALL_FUEL) };
}

/**
 * The telemetry of a TELEMETRY frame, checked; each item names a plugin of the sandbox.
 * The sandbox's own `allowed` audit entries and counts for calls the host decides are
 * dropped: the host's gate records those (relay.ts). Its denials stay: the request never
 * left the sandbox, and the record says what was asked.
 * @throws FO_SANDBOX_PROTOCOL_VIOLATION
 */
export function checkTelemetry(payload: Uint8Array, plugins: SandboxPlugins): TelemetryItem[] {
  const items = fromJsonBytes(payload);
  if (!Array.isArray(items) || items.length > MAX_TELEMETRY_ITEMS) throw violation(`telemetry: expected an array of at most ${MAX_TELEMETRY_ITEMS} items`);
  const checked: TelemetryItem[] = [];
  for (const [i, value] of items.entries()) {
    const item = object(value, `telemetry[${i}]`);
    const plugin = text(item['plugin'], `telemetry[${i}].plugin`, 1024);
    if (!plugins.has(plugin)) throw violation(`telemetry[${i}] names a plugin this sandbox does not host`, { plugin: plugin.slice(0, 200) });
    const one = checkItem(item, plugin, `telemetry[${i}]`, plugins);
    if (one !== undefined) checked.push(one);
  }
  return checked;
}

function checkItem(item: Json, plugin: string, what: string, plugins: SandboxPlugins): TelemetryItem | undefined {
  switch (item['kind']) {
    case 'audit': {
      const entry = object(item['entry'], `${what}.entry`);
      const action = text(entry['action'], `${what}.entry.action`, 256);
      const allowed = entry['allowed'];
      if (typeof allowed !== 'boolean') throw violation(`${what}.entry.allowed: expected a boolean`);
      if (allowed && plugins.decidedByHost(plugin, action)) return undefined;
      const resource = optionalText(entry['resource'], `${what}.entry.resource`);
      const requested = optionalText(entry['requested'], `${what}.entry.requested`);
      const reason = text(entry['reason'], `${what}.entry.reason`);
      // Only a summary of folded records carries data.
      if (entry['data'] !== undefined && action !== FOLDED_ACTION) throw violation(`${what}.entry.data: only an ${FOLDED_ACTION} entry carries data`);
      const data = entry['data'] === undefined ? undefined : auditData(entry['data'], `${what}.entry.data`);
      return { kind: 'audit', plugin, entry: { plugin, action, resource, allowed, reason, ...(requested === undefined ? {} : { requested }), ...(data === undefined ? {} : { data }) } };
    }
    case 'log': {
      const record = object(item['record'], `${what}.record`);
      const level = record['level'];
      if (typeof level !== 'string' || level === 'silent' || !(LOG_LEVELS as readonly string[]).includes(level)) throw violation(`${what}.record.level: expected a log level`);
      const fields = object(record['fields'] ?? {}, `${what}.record.fields`);
      return { kind: 'log', plugin, record: { level: level as 'info', message: text(record['message'], `${what}.record.message`), fields, time: finite(record['time'], `${what}.record.time`) } };
    }
    case 'event': {
      const event = object(item['event'], `${what}.event`);
      return {
        kind: 'event',
        plugin,
        event: { plugin, name: text(event['name'], `${what}.event.name`, 1024), payload: bytes(event['payload'], `${what}.event.payload`), time: finite(event['time'], `${what}.event.time`) },
      };
    }
    case 'anomaly': {
      const anomaly = object(item['anomaly'], `${what}.anomaly`);
      return {
        kind: 'anomaly',
        plugin,
        anomaly: {
          kind: text(anomaly['kind'], `${what}.anomaly.kind`, 64) as AnomalyKind,
          plugin: text(anomaly['plugin'], `${what}.anomaly.plugin`, 1024),
          call: text(anomaly['call'], `${what}.anomaly.call`, 256),
          detail: text(anomaly['detail'], `${what}.anomaly.detail`),
          at: finite(anomaly['at'], `${what}.anomaly.at`),
        },
      };
    }
    case 'counts': {
      const counts = item['counts'];
      if (!Array.isArray(counts) || counts.length > 1024) throw violation(`${what}.counts: expected an array of at most 1024 entries`);
      const checked = counts
        .map((value, j) => {
          const entry = object(value, `${what}.counts[${j}]`);
          return { call: text(entry['call'], `${what}.counts[${j}].call`, 256), allowed: count(entry['allowed'], `${what}.counts[${j}].allowed`), denied: count(entry['denied'], `${what}.counts[${j}].denied`) };
        })
        // The host's gate counts the calls it decides.
        .filter((entry) => !plugins.decidedByHost(plugin, entry.call));
      return checked.length === 0 ? undefined : { kind: 'counts', plugin, counts: checked };
    }
    case 'fold':
      return { kind: 'fold', plugin, progress: foldProgress(item['progress'], plugin, `${what}.progress`, plugins) };
    default:
      throw violation(`${what}.kind: expected audit, log, event, anomaly, counts or fold`);
  }
}

/**
 * A folding call's running counts (audit-fold.ts), held to what the plugin's spec allows:
 * it must fold at all, `kept` is its limit, the counts add up to `folded`, which is no
 * more than the host calls its fuel pays for, and every text is bounded, so the summary
 * the host writes from it when it kills the call (pool-fold-progress.ts) is one the log
 * takes and says no more than the plugin could have done.
 */
function foldProgress(value: unknown, plugin: string, what: string, plugins: SandboxPlugins): FoldProgress {
  const folding = plugins.folding(plugin);
  if (folding === undefined) throw violation(`${what}: the plugin folds no audit records`);
  const progress = object(value, what);
  const kept = count(progress['kept'], `${what}.kept`);
  if (kept !== folding.kept) throw violation(`${what}.kept: expected the plugin's ${folding.kept}`);
  const folded = count(progress['folded'], `${what}.folded`);
  if (folded < 1 || folded > folding.calls) throw violation(`${what}.folded: expected 1 to ${folding.calls} (the host calls its fuel pays for)`);
  const other = count(progress['other'], `${what}.other`);
  const list = progress['counts'];
  if (!Array.isArray(list) || list.length > MAX_FOLDED_KEYS) throw violation(`${what}.counts: expected at most ${MAX_FOLDED_KEYS} entries`);
  let sum = other;
  const counts = list.map((entry, j): FoldedCount => {
    if (!Array.isArray(entry) || entry.length !== 3) throw violation(`${what}.counts[${j}]: expected [action, resource, count]`);
    const resource = entry[1] === null ? null : text(entry[1], `${what}.counts[${j}][1]`, MAX_KEY_RESOURCE);
    const n = count(entry[2], `${what}.counts[${j}][2]`);
    sum += n;
    return [text(entry[0], `${what}.counts[${j}][0]`, 256), resource, n];
  });
  if (sum !== folded) throw violation(`${what}: the counts add up to ${sum}, not ${folded}`);
  return { call: text(progress['call'], `${what}.call`, 256), kept, folded, counts, other };
}

/** The host calls of a TRACE frame, checked. @throws FO_SANDBOX_PROTOCOL_VIOLATION */
export function checkTrace(payload: Uint8Array): TraceMessage {
  const trace = object(fromJsonBytes(payload), 'trace');
  const records = trace['records'];
  if (!Array.isArray(records) || records.length > MAX_TRACED_HOST_CALLS) throw violation(`trace.records: expected at most ${MAX_TRACED_HOST_CALLS} records`);
  const checked = records.map((value, i): HostCallRecord => {
    const record = object(value, `trace.records[${i}]`);
    const decision = record['decision'];
    if (decision !== 'allow' && decision !== 'deny') throw violation(`trace.records[${i}].decision: expected allow or deny`);
    return {
      call: text(record['call'], `trace.records[${i}].call`, 256),
      decision,
      resourceKind: text(record['resourceKind'], `trace.records[${i}].resourceKind`, 64),
      start: finite(record['start'], `trace.records[${i}].start`),
      end: finite(record['end'], `trace.records[${i}].end`),
    };
  });
  return { type: 'trace', records: checked, dropped: count(trace['dropped'], 'trace.dropped') };
}

/**
 * An HTTP hop a sandbox asks the host to make, checked and rebuilt from the plugin's
 * spec: the response cap and whether a non-public address may be reached come from the
 * host's grants, never from the sandbox; the time is capped by the plugin's limit.
 * @throws FO_SANDBOX_PROTOCOL_VIOLATION
 */
export function checkHop(payload: Uint8Array, limits: HttpLimits, explicit: ExplicitHosts): { hop: HttpHop; url: URL } {
  const hop = object(fromJsonBytes(payload), 'http hop');
  const method = text(hop['method'], 'http hop.method', 16);
  if (!HTTP_METHODS.has(method)) throw violation(`http hop.method: ${JSON.stringify(method)} is not a method plugins may use`);
  let url: URL;
  try {
    url = new URL(text(hop['url'], 'http hop.url', 8192));
  } catch {
    throw violation('http hop.url: expected an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw violation('http hop.url: expected http or https');
  const headers = hop['headers'];
  if (!Array.isArray(headers) || headers.length > MAX_HOP_HEADERS) throw violation(`http hop.headers: expected at most ${MAX_HOP_HEADERS} pairs`);
  const pairs = headers.map((pair, i): [string, string] => {
    if (!Array.isArray(pair) || pair.length !== 2) throw violation(`http hop.headers[${i}]: expected a name and a value`);
    const name = text(pair[0], `http hop.headers[${i}][0]`, 256);
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || FORBIDDEN_REQUEST_HEADERS.has(name.toLowerCase())) throw violation(`http hop.headers[${i}]: ${JSON.stringify(name.slice(0, 64))} may not be sent`);
    const value = text(pair[1], `http hop.headers[${i}][1]`, MAX_HOP_HEADER_VALUE);
    // SECURITY: printable ASCII and tabs only, so no CR, LF or NUL can split the request.
    if (!HOP_HEADER_VALUE.test(value)) throw violation(`http hop.headers[${i}]: a value must be printable ASCII or tabs`);
    return [name, value];
  });
  const body = bytes(hop['body'], 'http hop.body');
  if (body.length > limits.maxRequestBodyBytes) throw violation(`http hop.body: ${body.length} bytes is over the plugin's ${limits.maxRequestBodyBytes}`);
  const timeoutMs = Math.min(finite(hop['timeoutMs'], 'http hop.timeoutMs'), limits.maxTimeoutMs);
  if (!(timeoutMs > 0)) throw violation('http hop.timeoutMs: expected a positive number');
  const follow = hop['redirectsFollowed'];
  if (typeof follow !== 'boolean') throw violation('http hop.redirectsFollowed: expected a boolean');
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  return {
    url,
    hop: { method, url: url.href, headers: pairs, body, timeoutMs, maxResponseBytes: limits.maxResponseBytes, allowNonPublic: explicit.has(url.hostname, port), redirectsFollowed: follow },
  };
}

/** Codes only the host can know to be true: a sandbox that reports one lies. */
const HOST_ONLY_CODES: ReadonlySet<string> = new Set(['FO_SANDBOX_PROTOCOL_VIOLATION', 'FO_SANDBOX_MEMORY_LIMIT']);
/** Longest message the host takes with a sandbox's job error, in UTF-16 units (it reaches logs and audit reasons). */
export const MAX_JOB_ERROR_MESSAGE = 4096;
/** Largest `details` of a sandbox's job error, as JSON; larger details are dropped. */
export const MAX_JOB_ERROR_DETAILS = 16 * 1024;

/**
 * The error a sandbox's job ended with, re-serialised from checked fields: a catalog code
 * the sandbox may report, a message of at most {@link MAX_JOB_ERROR_MESSAGE} characters, and
 * details of at most {@link MAX_JOB_ERROR_DETAILS} bytes as JSON (else none), so that what
 * reaches the caller, the logs and the audit log is bounded and never a code only the host
 * decides (the memory-limit kill, a protocol violation).
 * @throws FO_SANDBOX_PROTOCOL_VIOLATION for an error that is not JSON, has no catalog code, or claims a host-only code
 */
export function checkJobError(payload: Uint8Array): Uint8Array {
  const error = object(fromJsonBytes(payload), 'job error');
  const code = error['code'];
  if (typeof code !== 'string' || !isErrorCode(code)) throw violation(`job error: expected a catalog error code, found ${JSON.stringify(String(code).slice(0, 64))}`);
  if (HOST_ONLY_CODES.has(code)) throw violation(`job error: ${code} is for the host to decide, not the sandbox`);
  const message = typeof error['message'] === 'string' ? error['message'] : '';
  const details = error['details'] === undefined ? undefined : object(error['details'], 'job error details');
  const detailsJson = details === undefined ? undefined : JSON.stringify(details);
  const checked: Json = { code, message: message.length > MAX_JOB_ERROR_MESSAGE ? `${message.slice(0, MAX_JOB_ERROR_MESSAGE)}... (cut by the host)` : message };
  if (detailsJson !== undefined && Buffer.byteLength(detailsJson) <= MAX_JOB_ERROR_DETAILS) checked['details'] = details;
  return new TextEncoder().encode(JSON.stringify(checked));
}
