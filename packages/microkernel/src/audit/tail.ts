/**
 * Reading recent records for `forge audit tail`: newest segments first, filtered by
 * time and plugin before any JSON is parsed (timestamps sit at a fixed offset and sort
 * as text; the plugin filter looks for its text in the line first). Tail reads, it does
 * not verify: use verifyAuditLog for that.
 */
import { open } from 'node:fs/promises';
import { ForgeError, fromFsError } from '@forgeone/common';
import { listSegments } from './files.js';
import { LINE_START, TIMESTAMP_LENGTH, formatTimestamp, jsonString } from './format.js';
import { parseAuditRecord, type AuditRecord } from './record.js';
import { scanLines } from './scan.js';

/** Options of {@link readAuditTail}. */
export interface AuditTailOptions {
  /** The log's active path. */
  readonly path: string;
  /**
   * Only event records of this plugin: its package digest (`sha256:…`), its name, or
   * `publisher/name` or `publisher/name@version`.
   */
  readonly plugin?: string;
  /** Only records at or after this time (ms since the epoch). */
  readonly since?: number;
  /** The newest this many matching records (default: all). */
  readonly limit?: number;
}

/** What {@link readAuditTail} found. */
export interface AuditTail {
  /** Matching records, oldest first. */
  readonly records: readonly AuditRecord[];
  /** Lines that could not be parsed (a torn tail, damage): run verification. */
  readonly unreadable: number;
}

const TS_AT = LINE_START.length; // the timestamp follows `{"seq":<digits>,"ts":"`

/** True when the event record `record` was made by the plugin named `plugin` (see {@link AuditTailOptions.plugin}). */
export function recordMatchesPlugin(record: AuditRecord, plugin: string): boolean {
  if (record.type !== 'event') return false;
  if (record.plugin === plugin) return true;
  if (!record.principal.startsWith('plugin:')) return false;
  const who = record.principal.slice('plugin:'.length);
  if (who === plugin) return true;
  const at = who.lastIndexOf('@');
  const withoutVersion = at === -1 ? who : who.slice(0, at);
  return withoutVersion === plugin || withoutVersion.slice(withoutVersion.lastIndexOf('/') + 1) === plugin;
}

/** The timestamp of line `buf[start, end)` without parsing it, or undefined when it is not where the format puts it. */
function lineTimestamp(buf: Buffer, start: number, end: number): string | undefined {
  let at = start + TS_AT;
  while (at < end && (buf[at] ?? 0) >= 0x30 && (buf[at] ?? 0) <= 0x39) at += 1;
  at += ',"ts":"'.length;
  return at + TIMESTAMP_LENGTH <= end ? buf.toString('latin1', at, at + TIMESTAMP_LENGTH) : undefined;
}

/**
 * The newest records matching the filters, oldest first.
 * @throws ForgeError FO_AUDIT_LOG_NOT_FOUND when there is no log at the path; FO_IO_*
 */
export async function readAuditTail(options: AuditTailOptions): Promise<AuditTail> {
  const segments = await listSegments(options.path);
  if (segments.length === 0) {
    throw new ForgeError('FO_AUDIT_LOG_NOT_FOUND', `no audit log at ${options.path} (neither the file nor rotated segments exist)`, { details: { path: options.path } });
  }
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const since = options.since === undefined ? undefined : formatTimestamp(options.since);
  const needle = options.plugin === undefined ? undefined : Buffer.from(jsonString(options.plugin).slice(1, -1), 'utf8');
  const found: AuditRecord[][] = [];
  let count = 0;
  let unreadable = 0;
  for (let position = segments.length - 1; position >= 0 && count < limit; position -= 1) {
    const segment = segments[position];
    if (segment === undefined) break;
    const handle = await open(segment.path, 'r').catch((error: unknown) => {
      throw fromFsError(error, 'open an audit log segment', segment.path);
    });
    // Matching records of this segment; past 2 x `keep`, only the newest `keep` are kept.
    const keep = limit - count;
    let records: AuditRecord[] = [];
    let olderThanSince = false;
    try {
      const scan = await scanLines(handle, 0, (buf, start, end) => {
        if (since !== undefined) {
          const ts = lineTimestamp(buf, start, end);
          if (ts !== undefined && ts < since) {
            olderThanSince = true;
            return true;
          }
        }
        if (needle !== undefined && buf.subarray(start, end).indexOf(needle) === -1) return true;
        let record: AuditRecord;
        try {
          record = parseAuditRecord(buf.toString('utf8', start, end));
        } catch {
          unreadable += 1;
          return true;
        }
        if (options.plugin !== undefined && !recordMatchesPlugin(record, options.plugin)) return true;
        records.push(record);
        if (records.length >= keep * 2) records = records.slice(records.length - keep);
        return true;
      });
      if (scan.stop !== undefined) unreadable += 1;
    } finally {
      await handle.close();
    }
    const kept = records.slice(Math.max(0, records.length - keep));
    found.unshift(kept);
    count += kept.length;
    // Segments are in time order: an older one cannot hold newer records.
    if (olderThanSince) break;
  }
  return { records: found.flat(), unreadable };
}
