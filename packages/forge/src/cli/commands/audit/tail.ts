import { parseDuration } from '@forgeone/common';
import { readAuditTail, type AuditRecord } from '@forgeone/microkernel';
import { call } from '../../../daemon/client.js';
import { CONFIG_FLAG, JSON_FLAG, defineCommand } from '../../command.js';
import { loadCliConfig } from '../../config.js';
import { DAEMON_HELP, findDaemon } from '../../daemon-link.js';
import { badFlagValue } from '../../flag-value.js';
import { sanitizeLine, toSafeJson } from '../../terminal.js';
import { cliAuditPaths } from './paths.js';
import { text } from '../../help-text.js';

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * `--since`: a duration back from now (`10m`, `1h30m`) or an ISO-8601 time.
 * @throws ForgeError FO_CLI_FLAG_VALUE
 */
export function parseSince(text: string, now: number): number {
  const ago = parseDuration(text);
  if (ago !== undefined) return now - ago;
  const at = ISO_DATE.test(text.trim()) ? Date.parse(text.trim()) : Number.NaN;
  if (Number.isNaN(at)) {
    throw badFlagValue('since', 'a duration like 10m or an ISO time like 2025-01-02T03:04:05Z', text);
  }
  return at;
}

function parseLines(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const count = /^\d{1,7}$/.test(text) ? Number(text) : Number.NaN;
  if (!(count >= 1)) {
    throw badFlagValue('lines', 'a whole number from 1 to 9999999', text);
  }
  return count;
}

/** Untrusted text (or a value that should have been a number) for one line. */
const safe = (value: unknown): string => sanitizeLine(String(value));

/** One record as a line for people; every field that came from the log is sanitised, newlines included. */
export function formatRecord(record: AuditRecord): string {
  const head = `${safe(record.ts)}  #${safe(record.seq)}`;
  switch (record.type) {
    case 'event': {
      const parts = [head, record.decision === 'deny' ? 'DENY ' : 'allow', safe(record.principal), safe(record.action)];
      if (record.resource !== undefined) parts.push(safe(record.resource));
      if (record.reason !== undefined && record.reason !== '') parts.push(`(${safe(record.reason)})`);
      return parts.join('  ');
    }
    case 'checkpoint':
      return `${head}  checkpoint  signed by ${safe(record.key)}`;
    case 'recovery':
      return `${head}  recovery  ${safe(record.reason)}; ${safe(record.cut_bytes)} bytes kept in ${safe(record.saved_to)}`;
    case 'segment':
      return `${head}  segment ${safe(record.segment)} begins`;
    default:
      // A record type this version does not know (from a newer daemon): shown whole, escaped.
      return `${head}  ${safe(JSON.stringify(record))}`;
  }
}

/** `forge audit tail [--plugin X] [--since T] [-n N] [--log FILE] [--json]` */
export const auditTail = defineCommand({
  path: ['audit', 'tail'],
  summary: 'Show the newest audit records, optionally of one plugin or since a time.',
  description: `${text`
    Prints the newest records of the audit log, oldest first: time, seq, decision, principal,
    action, resource and reason. Text that came from plugins is escaped. Without --since the last
    20 records are shown (change it with -n); with --since, every record since then. tail reads,
    it does not verify: run forge audit verify for that.

    While a daemon runs it writes the log, so tail asks it (GET /v1/audit) unless --log names a
    file; through the daemon, -n is at most 10000, --since without -n shows at most the newest 100
    records, and --json prints {"records"} only (no "log" or "unreadable").
  `}\n\n${DAEMON_HELP}`,
  flags: [
    { name: 'plugin', type: 'string', value: 'X', description: 'Only records of this plugin: its name, publisher/name, publisher/name@version, or package digest sha256:....' },
    { name: 'since', type: 'string', value: 'T', description: 'Only records from this time on: a duration back from now (10m, 2h) or an ISO time.' },
    { name: 'lines', short: 'n', type: 'string', value: 'N', description: 'Show at most the newest N matching records (default 20 without --since, all with it).' },
    { name: 'log', type: 'string', value: 'FILE', description: 'The audit log (default: audit.path from the configuration).' },
    JSON_FLAG,
    CONFIG_FLAG,
  ],
  args: [],
  examples: ['forge audit tail', 'forge audit tail --plugin acme/demo --since 10m', 'forge audit tail --since 2025-01-02T00:00:00Z --json'],
  async run({ flags }, io) {
    const since = flags.since === undefined ? undefined : parseSince(flags.since, Date.now());
    const limit = parseLines(flags.lines, since === undefined ? 20 : Number.POSITIVE_INFINITY);
    if (flags.log === undefined) {
      const { config } = await loadCliConfig(io, flags.config);
      const link = await findDaemon(io, config);
      if (link !== undefined) {
        const query = new URLSearchParams();
        if (Number.isFinite(limit)) query.set('limit', String(limit));
        if (since !== undefined) query.set('since', new Date(since).toISOString());
        if (flags.plugin !== undefined) query.set('plugin', flags.plugin);
        const { records } = await call<{ records: AuditRecord[] }>(link.target, { method: 'GET', path: `/v1/audit${query.size === 0 ? '' : `?${query.toString()}`}` });
        if (flags.json) io.stdout.write(toSafeJson({ records }));
        else if (records.length === 0) io.stderr.write('no matching records\n');
        else io.stdout.write(`${records.map(formatRecord).join('\n')}\n`);
        return;
      }
    }
    const paths = await cliAuditPaths(io, flags.config, flags.log);
    const tail = await readAuditTail({
      path: paths.log,
      ...(flags.plugin === undefined ? {} : { plugin: flags.plugin }),
      ...(since === undefined ? {} : { since }),
      limit,
    });
    if (tail.unreadable > 0) io.stderr.write(`warning: ${tail.unreadable} line(s) could not be read; run forge audit verify\n`);
    if (flags.json) {
      io.stdout.write(toSafeJson({ log: paths.log, records: tail.records, unreadable: tail.unreadable }));
      return;
    }
    if (tail.records.length === 0) io.stderr.write('no matching records\n');
    else io.stdout.write(`${tail.records.map(formatRecord).join('\n')}\n`);
  },
});
