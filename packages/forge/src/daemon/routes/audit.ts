/**
 * The audit log, read back: the newest records (as `forge audit tail` reads them) and
 * the verification of the whole log (as `forge audit verify` runs it), on the daemon's
 * configured log (audit-reader.ts).
 */
import { route, type JsonSchema, type Route } from '../http/route.js';
import type { DaemonServices } from './services.js';

/** One record of the log (docs/audit.md): an event, a checkpoint, a segment or a recovery record. */
export const AUDIT_RECORD: JsonSchema = {
  type: 'object',
  properties: {
    seq: { type: 'integer' },
    ts: { type: 'string' },
    type: { type: 'string', enum: ['event', 'checkpoint', 'segment', 'recovery'] },
    prev: { type: 'string' },
    hash: { type: 'string' },
    principal: { type: 'string', description: 'event: who acted.' },
    plugin: { type: 'string', description: 'event: the acting plugin\'s package digest.' },
    action: { type: 'string', description: 'event: what was done.' },
    resource: { type: 'string', description: 'event: what it was done to (may be plugin-supplied: escape it before showing it).' },
    decision: { type: 'string', enum: ['allow', 'deny'] },
    reason: { type: 'string' },
    data: { type: 'object' },
  },
  required: ['seq', 'ts', 'type', 'prev', 'hash'],
};

const AUDIT_CHECK: JsonSchema = {
  type: 'object',
  properties: {
    ok: { type: 'boolean' },
    records: { type: 'integer', description: 'Records checked and found good.' },
    checkpoints: { type: 'integer' },
    signatures: { type: 'string', enum: ['verified', 'unchecked', 'none'], description: 'Whether checkpoint signatures were checked (with the public key next to audit.checkpoint_key).' },
    lastCheckpointAge: { type: 'integer', description: 'Seconds since the last checkpoint was written.' },
    firstBad: { type: 'object', properties: { seq: { type: 'integer' }, reason: { type: 'string' } }, required: ['seq', 'reason'], description: 'The first bad record: the seq that belongs there and why.' },
    problem: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } }, required: ['code', 'message'] },
  },
  required: ['ok', 'records', 'checkpoints', 'signatures'],
};

/** The audit operations. */
export const AUDIT_ROUTES: readonly Route<DaemonServices>[] = [
  route<DaemonServices>({
    operation: 'audit.tail',
    method: 'GET',
    url: '/v1/audit',
    summary: 'The newest audit records, optionally of one plugin or since a time, oldest first.',
    description: 'Reads the log as forge audit tail does (it reads, it does not verify). `unreadable` counts lines that could not be parsed: run the verification.',
    role: 'viewer',
    mutates: false,
    query: {
      type: 'object',
      properties: {
        limit: { type: 'integer', minimum: 1, maximum: 10_000, default: 100, description: 'The newest this many matching records.' },
        since: { type: 'string', minLength: 1, maxLength: 64, description: 'Only records from this time on: a duration back from now (10m, 2h) or an ISO time.' },
        plugin: { type: 'string', minLength: 1, maxLength: 300, description: 'Only records of this plugin: its name, publisher/name[@version], or package digest sha256:....' },
      },
      additionalProperties: false,
    },
    response: {
      status: 200,
      content: { type: 'object', properties: { records: { type: 'array', items: AUDIT_RECORD }, unreadable: { type: 'integer' } }, required: ['records', 'unreadable'] },
      description: 'The matching records, oldest first.',
    },
    handler: ({ services, query }) =>
      services.auditReader.tail({
        limit: query['limit'] as number,
        ...(query['since'] === undefined ? {} : { since: query['since'] as string }),
        ...(query['plugin'] === undefined ? {} : { plugin: query['plugin'] as string }),
      }),
  }),
  route<DaemonServices>({
    operation: 'audit.verify',
    method: 'GET',
    url: '/v1/audit/verify',
    summary: 'Verify the audit log: hash chain, checkpoint signatures, truncation against the state file.',
    description:
      'Runs the checks of forge audit verify over every segment of the daemon\'s log. Tampering is a result (`ok: false`, `firstBad`), ' +
      'not an error. Requests that arrive while a verification runs share its result.',
    role: 'viewer',
    mutates: false,
    response: { status: 200, content: AUDIT_CHECK, description: 'The verification\'s result.' },
    handler: ({ services }) => services.auditReader.verify(),
  }),
];
