/**
 * The audit witness: what the log and its state file cannot show on their own (a rollback
 * of both to an older, genuinely signed pair; a rewrite from an old checkpoint on) is
 * caught against the checkpoints appended off the host; a witness emptied, reordered,
 * edited, torn or from another log is told apart.
 */
import assert from 'node:assert/strict';
import { appendFile, copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig } from '@forgeone/common';
import { rejectsWithCode } from '@forgeone/common/testing';
import { openConfiguredAuditLog } from './config.js';
import { statePathFor } from './files.js';
import { generateCheckpointKey, type CheckpointKey } from './keys.js';
import { AuditLog } from './log.js';
import { sampleEntry, tempDir } from './test-support/logs.js';
import { verifyAuditLog } from './verify.js';
import { appendWitness, readWitness, verifyWithWitness } from './witness.js';

/** Appends `count` entries (offset by `from`) and closes, which writes a checkpoint; the witness hears of each checkpoint when given. */
async function session(path: string, key: CheckpointKey, from: number, count: number, witness?: string): Promise<void> {
  const log = await AuditLog.open({ path, signingKey: key, checkpointInterval: 0, ...(witness === undefined ? {} : { onCheckpoint: (notice) => appendWitness(witness, notice) }) });
  for (let i = from; i < from + count; i++) log.append(sampleEntry(i));
  await log.close();
}

/** A log with two witnessed sessions (checkpoints at seq 6 and 12), and a copy of the log and state file as they were after the first. */
async function twoSessions(): Promise<{ dir: string; path: string; key: CheckpointKey; witness: string; restoreFirst: () => Promise<void> }> {
  const dir = await tempDir();
  const path = join(dir, 'audit.log');
  const witness = join(dir, 'elsewhere.witness');
  const key = generateCheckpointKey();
  await session(path, key, 0, 5, witness);
  await copyFile(path, join(dir, 'old.log'));
  await copyFile(statePathFor(path), join(dir, 'old.checkpoint'));
  await session(path, key, 5, 5, witness);
  const restoreFirst = async (): Promise<void> => {
    await copyFile(join(dir, 'old.log'), path);
    await copyFile(join(dir, 'old.checkpoint'), statePathFor(path));
  };
  return { dir, path, key, witness, restoreFirst };
}

describe('the audit witness', () => {
  it('holds one synced line per checkpoint, each a checkpoint state, in seq order', async () => {
    const { path, key, witness } = await twoSessions();
    const read = await readWitness(witness);
    assert.equal(read.entries, 2);
    assert.equal(read.newest?.seq, 12);
    assert.equal(read.torn, false);
    const result = await verifyWithWitness({ path, keys: [key], witness });
    assert.equal(result.ok, true, result.problem?.message);
    assert.deepEqual([result.state, result.witness.checkedAgainst, result.witness.newestSeq], ['matched', 'witness', 12]);
  });

  it('catches a log rolled back together with its state file, which verification alone passes (FO_AUDIT_TRUNCATED)', async () => {
    const { path, key, witness, restoreFirst } = await twoSessions();
    await restoreFirst();
    const alone = await verifyAuditLog({ path, keys: [key] });
    assert.equal(alone.ok, true, 'the documented limit: an older signed pair verifies on its own');
    const result = await verifyWithWitness({ path, keys: [key], witness });
    assert.equal(result.ok, false);
    assert.equal(result.problem?.code, 'FO_AUDIT_TRUNCATED');
    assert.equal(result.problem?.message, `the log ends at seq 6, before the checkpoint at seq 12 recorded in the witness ${witness}: records were cut`);
  });

  it('catches a log rewritten from an old checkpoint to the same length (FO_AUDIT_STATE_INVALID at the witnessed seq)', async () => {
    const { path, key, witness, restoreFirst } = await twoSessions();
    await restoreFirst();
    await session(path, key, 100, 5); // other records, signed with the stolen key, not witnessed
    assert.equal((await verifyAuditLog({ path, keys: [key] })).ok, true);
    const result = await verifyWithWitness({ path, keys: [key], witness });
    assert.equal(result.problem?.code, 'FO_AUDIT_STATE_INVALID');
    assert.equal(result.problem?.message, `record at seq 12 is not the checkpoint the witness ${witness} holds: the log was rewritten from here or earlier`);
    assert.equal(result.problem?.record?.seq, 12);
  });

  it('refuses an emptied witness while the log holds checkpoints, and a witness of another key', async () => {
    const { path, key, witness, dir } = await twoSessions();
    await writeFile(witness, '');
    const emptied = await verifyWithWitness({ path, keys: [key], witness });
    assert.equal(emptied.problem?.code, 'FO_AUDIT_WITNESS_INVALID');
    assert.match(emptied.problem?.message ?? '', /holds no checkpoint while the log holds 2/);
    const otherWitness = join(dir, 'other.witness');
    await session(join(dir, 'other', 'audit.log'), generateCheckpointKey(), 0, 11, otherWitness);
    const foreign = await verifyWithWitness({ path, keys: [key], witness: otherWitness });
    assert.equal(foreign.problem?.code, 'FO_AUDIT_STATE_INVALID');
    assert.match(foreign.problem?.message ?? '', /its checkpoint is not signed by a given key/);
  });

  it('names the line of an edited, reordered or replayed witness (FO_AUDIT_WITNESS_INVALID), and ignores a torn last line', async () => {
    const { witness } = await twoSessions();
    const [first, second] = (await readFile(witness, 'utf8')).trimEnd().split('\n');
    await writeFile(witness, `${second}\n${first}\n`);
    const reordered = await rejectsWithCode(readWitness(witness), 'FO_AUDIT_WITNESS_INVALID');
    assert.equal(reordered.message, `audit witness ${witness}, line 2: checkpoint seq 6 does not follow seq 12: lines were reordered or replayed`);
    await writeFile(witness, `${first}\n${(second ?? '').replace('"seq":12', '"seq":13')}\n`);
    const edited = await rejectsWithCode(readWitness(witness), 'FO_AUDIT_WITNESS_INVALID');
    assert.match(edited.message, /, line 2: /);
    await writeFile(witness, `${first}\n${second}\n`);
    await appendFile(witness, (second ?? '').slice(0, 40));
    const torn = await readWitness(witness);
    assert.deepEqual([torn.entries, torn.newest?.seq, torn.torn], [2, 12, true]);
  });

  it('is written from the configuration (audit.witness), in a directory that must exist', async () => {
    const dir = await tempDir();
    const config = (witness: string): ReturnType<typeof parseConfig> =>
      parseConfig(`plugin_manager:\n  audit:\n    path: log/audit.log\n    checkpoint_key: keys/checkpoint.pem\n    witness: ${witness}\n`, { name: 'test.yaml', baseDir: dir });
    await rejectsWithCode(openConfiguredAuditLog(config('/nonexistent-volume/audit.witness').audit, dir), 'FO_IO_NOT_FOUND');
    await mkdir(join(dir, 'mnt'));
    const log = await openConfiguredAuditLog(config('mnt/audit.witness').audit, dir);
    log.append(sampleEntry(1));
    await log.close();
    const witnessed = await readWitness(join(dir, 'mnt', 'audit.witness'));
    assert.equal(witnessed.entries, 1);
    assert.equal(witnessed.newest?.seq, 2);
  });
});
