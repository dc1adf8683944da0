import type { ErrorSpec } from '../spec.js';

/** Codes for the tamper-evident audit log (docs/audit.md). */
export const AUDIT_CODES = {
  FO_AUDIT_RECORD_CORRUPT: {
    kind: 'integrity',
    summary: 'An audit record is malformed or its bytes do not hash to its `hash` field (a changed byte, a split or merged line).',
  },
  FO_AUDIT_CHAIN_BROKEN: {
    kind: 'integrity',
    summary:
      "An audit record does not continue the chain: its `seq` or `prev` does not follow the record before it (a deleted, reordered or inserted record).",
  },
  FO_AUDIT_TRUNCATED: {
    kind: 'integrity',
    summary: 'The audit log ends early: its last line is incomplete, or it ends before the last checkpoint recorded in the checkpoint state file.',
  },
  FO_AUDIT_SIGNATURE_INVALID: {
    kind: 'integrity',
    summary: 'A checkpoint signature does not verify with the given public key, or the checkpoint does not sign the record before it.',
  },
  FO_AUDIT_KEY_UNKNOWN: {
    kind: 'integrity',
    summary: 'A checkpoint is signed by a key other than the public keys given to verify with.',
  },
  FO_AUDIT_INCOMPLETE: {
    kind: 'integrity',
    summary: 'The audit log does not start at its first record: earlier segments are missing, or segment files are out of sequence.',
  },
  FO_AUDIT_STATE_MISSING: {
    kind: 'integrity',
    summary: 'The audit log holds signed checkpoints but its checkpoint state file is missing, so a truncation could not be detected.',
  },
  FO_AUDIT_STATE_INVALID: {
    kind: 'integrity',
    summary: 'The audit checkpoint state file is not in the expected format or does not match the checkpoint it names.',
  },
  FO_AUDIT_WITNESS_INVALID: {
    kind: 'integrity',
    summary: 'The audit witness file (checkpoints kept off the host) has a malformed line, checkpoints out of order, or none while the log has some.',
  },
  FO_AUDIT_CORRUPT: {
    kind: 'integrity',
    summary:
      'Opening the audit log found damage before its last signed checkpoint, which a crash cannot cause; recovery refuses to cut it (run forge audit verify).',
  },
  FO_AUDIT_LOG_NOT_FOUND: {
    kind: 'not_found',
    summary: 'No audit log (active file or rotated segment) exists at the given path.',
  },
  FO_AUDIT_LOCKED: {
    kind: 'conflict',
    summary: 'Another live process holds the audit log open for writing (its lock file names the process).',
  },
  FO_AUDIT_CLOSED: {
    kind: 'conflict',
    summary: 'A record was appended to an audit log that is closing or closed.',
  },
  FO_AUDIT_BACKLOG: {
    kind: 'limit',
    summary: 'More audit bytes are waiting for the disk than the log allows; the record was refused, not dropped silently.',
  },
  FO_AUDIT_WRITE_FAILED: {
    kind: 'unavailable',
    summary: 'Writing or syncing the audit log failed; the log stopped accepting records and every pending durability promise was rejected.',
  },
  FO_AUDIT_RECORD_INVALID: {
    kind: 'invalid',
    summary: 'An audit entry lacks a required field or has a field of the wrong type (action, principal, decision, data).',
  },
  FO_AUDIT_OPTIONS_INVALID: {
    kind: 'usage',
    summary: 'An audit log was opened with an option out of range (batch size or delay, checkpoint interval, rotation size, backlog limit).',
  },
  FO_AUDIT_KEY_INVALID: {
    kind: 'invalid',
    summary: 'An audit checkpoint key file is not an Ed25519 key in PEM form.',
  },
} as const satisfies Record<string, ErrorSpec>;
