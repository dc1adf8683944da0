import { relative, resolve } from 'node:path';
import { ERROR_CATALOG, EXIT_CODES } from '@forgeone/common';
import { loadCheckpointVerifyKey, verifyAuditLog, verifyWithWitness, type AuditRecordLocation, type AuditVerification, type CheckpointVerifyKey, type WitnessVerification } from '@forgeone/microkernel';
import { CONFIG_FLAG, JSON_FLAG, defineCommand, type CliIo } from '../../command.js';
import { sanitizeForTerminal, toSafeJson } from '../../terminal.js';
import { loadCliConfig } from '../../config.js';
import { DAEMON_HELP, findDaemon } from '../../daemon-link.js';
import { text } from '../../help-text.js';
import { cliAuditPaths, keyFileExists } from './paths.js';
import { verifyThroughDaemon } from './remote-verify.js';

function place(location: AuditRecordLocation, cwd: string): string {
  const file = relative(cwd, location.file) || location.file;
  return `${sanitizeForTerminal(file)} line ${location.line} (byte ${location.offset})`;
}

function report(result: AuditVerification, keys: readonly CheckpointVerifyKey[], io: CliIo): string {
  const segments = result.segments.length;
  const lines = [
    `audit log ${sanitizeForTerminal(result.path)}: ${result.ok ? 'OK' : 'FAILED'}`,
    `  records:      ${result.records}${result.records > 0 ? ` (up to seq ${result.last.seq})` : ''}${result.ok ? '' : ' good before the problem'} in ${segments} segment${segments === 1 ? '' : 's'}`,
    `  checkpoints:  ${result.checkpoints}${
      result.signatures === 'verified'
        ? `, signatures verified with ${keys.map((key) => key.id.slice(0, 23)).join(', ')}…`
        : result.signatures === 'unchecked'
          ? ', signatures NOT checked (no --key)'
          : ''
    }`,
    ...(result.lastCheckpoint === undefined ? [] : [`  last checkpoint: seq ${result.lastCheckpoint.seq}, ${place(result.lastCheckpoint.location, io.cwd)}`]),
    `  state file:   ${
      {
        matched: 'the log reaches its checkpoint',
        unmatched: 'does not match (see below)',
        unreached: 'not reached (stopped at the problem below)',
        absent: 'none',
        skipped: 'not checked',
      }[result.state]
    }`,
    ...witnessLines(result),
    ...result.recoveries.map(
      (recovery) =>
        `  recovery at seq ${recovery.seq}: ${sanitizeForTerminal(recovery.reason)}; ${recovery.cutBytes} bytes kept in ${sanitizeForTerminal(recovery.savedTo)}`,
    ),
  ];
  if (result.problem !== undefined) {
    lines.push('', `${result.problem.code}: ${sanitizeForTerminal(result.problem.message)}`);
    if (result.problem.record !== undefined) lines.push(`first bad record: ${place(result.problem.record, io.cwd)}, where seq ${result.problem.record.seq} belongs`);
  }
  return `${lines.join('\n')}\n`;
}

function witnessLines(result: AuditVerification | WitnessVerification): string[] {
  if (!('witness' in result)) return [];
  const { witness } = result;
  const against = { witness: 'the log was checked against its newest', 'state file': 'the local state file is newer; the log was checked against that', none: 'nothing to check against' }[witness.checkedAgainst];
  return [
    `  witness:      ${sanitizeForTerminal(witness.file)}: ${witness.entries} checkpoint${witness.entries === 1 ? '' : 's'}${witness.newestSeq === null ? '' : `, newest at seq ${witness.newestSeq}`}; ${against}${witness.torn ? ' (a torn last line was ignored)' : ''}`,
  ];
}

/** `forge audit verify [--log FILE] [--key PUB]... [--state FILE] [--witness FILE] [--partial] [--json]` */
export const auditVerify = defineCommand({
  path: ['audit', 'verify'],
  summary: 'Check the audit log (hash chain, checkpoint signatures, truncation) and name the first bad record.',
  description: `${text`
    Reads every segment of the log, checks that each record hashes to its hash and continues the
    record before it, that every checkpoint is signed by one of the keys, and that the log reaches
    the checkpoint recorded in the state file. On the first problem it prints the file, line, byte
    offset and seq of the first bad record and exits with the problem's status (5 for tampering).

    Without --key the public key next to the configured checkpoint key is used if it exists. A key
    kept on the same host proves less than a copy kept elsewhere; see docs/audit.md.

    While a daemon runs it writes the log, so verify asks it (GET /v1/audit/verify) unless --log,
    --key, --state or --partial is given: the daemon checks the log with its own key and answers
    {"ok", "records", "checkpoints", "signatures", "lastCheckpointAge", "firstBad": {"seq", "reason"},
    "problem": {"code", "message"}}, which is what --json prints then. With those flags the files are read here even while a daemon runs (the
    record being written may then show as a torn tail). To check against a key kept off the host,
    pass --key.

    With a witness (--witness, or audit.witness in the configuration: the file every checkpoint is
    appended to, kept off the log's volume) the files are always read here, and the log must reach
    the newest checkpoint the witness holds with that exact record: a log rolled back or cut together
    with its state file fails with FO_AUDIT_TRUNCATED or FO_AUDIT_STATE_INVALID, an emptied witness
    with FO_AUDIT_WITNESS_INVALID.
  `}\n\n${DAEMON_HELP}`,
  flags: [
    { name: 'log', type: 'string', value: 'FILE', description: 'The audit log (default: audit.path from the configuration); rotated segments next to it are checked too.' },
    {
      name: 'key',
      type: 'strings',
      value: 'PUB',
      description: 'Ed25519 public key (PEM) the checkpoints are signed with; repeat it for keys used before a rotation.',
    },
    { name: 'state', type: 'string', value: 'FILE', description: 'Checkpoint state file to detect truncation with (default: LOG.checkpoint), e.g. a copy kept off the host.' },
    { name: 'witness', type: 'string', value: 'FILE', description: 'Audit witness to detect rollback and truncation with (default: audit.witness from the configuration).' },
    { name: 'partial', type: 'boolean', description: 'Accept a log whose oldest segments were removed, checking from the first record present.' },
    JSON_FLAG,
    CONFIG_FLAG,
  ],
  args: [],
  examples: ['forge audit verify', 'forge audit verify --log /var/lib/forgeone/audit/audit.log --key checkpoint-key.pub.pem --json', 'forge audit verify --witness /mnt/witness/audit.witness'],
  async run({ flags }, io) {
    const paths = await cliAuditPaths(io, flags.config, flags.log);
    const witness = flags.witness === undefined ? paths.witness : resolve(io.cwd, flags.witness);
    if (flags.log === undefined && flags.key.length === 0 && flags.state === undefined && !flags.partial && witness === undefined) {
      const { config } = await loadCliConfig(io, flags.config);
      const link = await findDaemon(io, config);
      if (link !== undefined) return verifyThroughDaemon(io, link, flags.json);
    }
    const keyFiles = flags.key.length > 0 ? flags.key.map((file) => resolve(io.cwd, file)) : keyFileExists(paths.publicKey) ? [paths.publicKey] : [];
    if (flags.key.length === 0 && keyFiles.length > 0) io.stderr.write(`using public key ${sanitizeForTerminal(paths.publicKey)}\n`);
    const keys = await Promise.all(keyFiles.map((file) => loadCheckpointVerifyKey(file)));
    const options = {
      path: paths.log,
      keys,
      ...(flags.state === undefined ? {} : { statePath: resolve(io.cwd, flags.state) }),
      partial: flags.partial,
    };
    const result = witness === undefined ? await verifyAuditLog(options) : await verifyWithWitness({ ...options, witness });
    if (result.signatures === 'unchecked') io.stderr.write('warning: checkpoint signatures were not checked: no public key (pass --key)\n');
    io.stdout.write(flags.json ? toSafeJson(result) : report(result, keys, io));
    if (result.problem === undefined) return 0;
    io.stderr.write(`forge: ${result.problem.code}: ${sanitizeForTerminal(result.problem.message)}\n`);
    return EXIT_CODES[ERROR_CATALOG[result.problem.code].kind];
  },
});
