/**
 * The audit log under crashes and a full disk (docs/security.md, "Crash consistency"):
 * a writer killed with SIGKILL at seeded random moments leaves a log that the next open
 * recovers and that verifies, holding every record the writer was told was durable; a
 * write that finds the disk full stops the log with FO_AUDIT_WRITE_FAILED naming ENOSPC,
 * and once space is freed the log opens, verifies and takes records again.
 */
import assert from 'node:assert/strict';
import { writeFileSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ForgeError } from '@forgeone/common';
import { CrashChild, crashPlan, measureCrashWindow, mountTmpfs } from '@forgeone/common/testing';
import { generateCheckpointKey, type CheckpointKey } from './keys.js';
import { AuditLog } from './log.js';
import { parseAuditRecord, type AuditRecord } from './record.js';
import { readLines, sampleEntry, tempDir } from './test-support/logs.js';
import { verifyAuditLog } from './verify.js';

const CHILD = fileURLToPath(new URL('./test-support/ack-child.js', import.meta.url));
/** Records per child. */
const RECORDS = 30;

/** Every record of every segment, by seq, after the log verified. */
async function verifiedRecords(path: string, key: CheckpointKey, label: string): Promise<Map<number, AuditRecord>> {
  const result = await verifyAuditLog({ path, keys: [key], threads: 1 });
  assert.equal(result.ok, true, `${label}: the log verifies (${JSON.stringify(result.problem)})`);
  const { lines } = await readLines(path);
  const records = lines.map((line) => parseAuditRecord(Buffer.from(line.text, 'latin1').toString('utf8')));
  return new Map(records.map((record) => [record.seq, record]));
}

/** Asserts that every acknowledged `<seq> <i>` is on disk as entry i. */
function assertAcked(records: Map<number, AuditRecord>, acks: readonly string[], label: string): void {
  for (const ack of acks) {
    const [seq, i] = ack.split(' ').map(Number) as [number, number];
    const record = records.get(seq);
    const entry = sampleEntry(i);
    assert.ok(record !== undefined && record.type === 'event', `${label}: acknowledged record ${seq} is there`);
    assert.deepEqual([record.principal, record.action, record.resource, record.decision], [entry.principal, entry.action, entry.resource, entry.decision], `${label}: record ${seq} is entry ${i}`);
  }
}

describe('the audit log killed at random moments', () => {
  const plan = crashPlan(15);
  it('recovers to a verifying chain holding every record acknowledged durable after each SIGKILL', { timeout: 120_000 + plan.iterations * 10_000 }, async (t: TestContext) => {
    const dir = await tempDir('forge-audit-crash-');
    const path = join(dir, 'audit.log');
    const keyFile = join(dir, 'audit.key');
    const key = generateCheckpointKey();
    await writeFile(keyFile, key.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 });
    let next = 0;
    const start = (early = false): CrashChild => new CrashChild(CHILD, [path, keyFile, String(next), String(RECORDS), ...(early ? ['EARLY'] : [])]);
    const { windowMs, end: calibration } = await measureCrashWindow(start);
    assertAcked(await verifiedRecords(path, key, 'calibration'), calibration.acks, 'calibration');
    next += RECORDS;
    const acked: string[] = [...calibration.acks];
    const tally = { killed: 0, finished: 0, beforeFirstAck: 0 };
    for (let run = 0; run < plan.iterations; run += 1) {
      // Every other run, the child itself recovers what the last kill left, and the kill may
      // land in that recovery (early in its life: within the first third of the window).
      const early = run % 2 === 1;
      const delay = plan.delay(early ? windowMs / 3 : windowMs);
      const end = await start(early).killAfter(delay);
      const label = `run ${run} (${plan.label}${early ? ', the child recovering at open' : ''}), killed after ${delay.toFixed(1)} ms`;
      acked.push(...end.acks);
      tally[end.signal === 'SIGKILL' ? 'killed' : 'finished'] += 1;
      if (early && end.signal === 'SIGKILL' && end.acks.length === 0) tally.beforeFirstAck += 1;
      next += RECORDS;
      // What this kill left is the next child's to recover.
      if (!early && run < plan.iterations - 1) continue;
      // The next open recovers what the kill left (a torn batch, a rotation cut short, a recovery cut short).
      const log = await AuditLog.open({ path, signingKey: key });
      await log.close();
      const records = await verifiedRecords(path, key, label);
      // Every acknowledgement so far, of this child and the earlier ones, still holds.
      assertAcked(records, acked, label);
    }
    // The next operation works: one more record, durable, after the last kill.
    const log = await AuditLog.open({ path, signingKey: key });
    const seq = await log.appendDurable(sampleEntry(next));
    await log.close();
    const records = await verifiedRecords(path, key, 'after the loop');
    assertAcked(records, [`${seq} ${next}`], 'after the loop');
    const recoveries = [...records.values()].filter((record) => record.type === 'recovery').length;
    t.diagnostic(`audit: ${RECORDS} records take ~${windowMs.toFixed(1)} ms; ${plan.label}: ${tally.killed} killed, ${tally.finished} finished, ${tally.beforeFirstAck} killed in their open's recovery or before their first record was durable, ${acked.length} acks checked, ${recoveries} torn tails cut at open`);
  });
});

/** Waits (20 ms steps, at most 60 s: a bound that fails the test, not a timing) until `done`. */
async function until(done: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !done(); waited += 20) {
    if (waited > 60_000) throw new Error(`gave up waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Appends batches of 25 (each acknowledged once flush() says it is durable) until the disk is full; returns the acks, the failure and the seqs of the batch that found it full. */
async function fillUntilFull(log: AuditLog): Promise<{ acks: string[]; failure: unknown; stranded: string[] }> {
  const acks: string[] = [];
  for (let i = 0; i < 10_000; i += 25) {
    const batch = Array.from({ length: 25 }, (_, n) => `${log.append(sampleEntry(i + n))} ${i + n}`);
    try {
      await log.flush();
      acks.push(...batch);
    } catch (error) {
      return { acks, failure: error, stranded: batch };
    }
  }
  return { acks, failure: undefined, stranded: [] };
}

/**
 * A log on the 1 MiB tmpfs at `dir`, next to a filler leaving it 128 KiB, with checkpoints only
 * at close (the state file is written once space is back), appended to until the disk is full.
 */
async function logOnFullDisk(dir: string): Promise<{ path: string; key: CheckpointKey; log: AuditLog } & Awaited<ReturnType<typeof fillUntilFull>>> {
  const path = join(dir, 'audit.log');
  const key = generateCheckpointKey();
  writeFileSync(join(dir, 'filler'), Buffer.alloc(896 * 1024));
  const log = await AuditLog.open({ path, signingKey: key, checkpointEvery: 1_000_000, checkpointInterval: 0 });
  return { path, key, log, ...(await fillUntilFull(log)) };
}

describe('the audit log on a full disk', () => {
  it('refuses records with FO_AUDIT_WRITE_FAILED naming ENOSPC while the disk is full, writes them again on its own once space is freed: no record lost or doubled, one record notes the outage, the chain and its checkpoints verify', async (t: TestContext) => {
    const fs = mountTmpfs(t, 1024 * 1024);
    if (fs === undefined) return;
    try {
      const { path, key, log, acks, failure, stranded } = await logOnFullDisk(fs.dir);
      assert.ok(acks.length > 0, 'some records fit');
      assert.ok(ForgeError.is(failure, 'FO_AUDIT_WRITE_FAILED'), `the batch that found the disk full was not made durable: FO_AUDIT_WRITE_FAILED, found ${String(failure)}`);
      assert.equal(failure.details['errno'], 'ENOSPC', 'the failure names the full disk');
      assert.match(failure.message, /no space left/i);
      // While the disk is full, every record is refused (each one a refused call).
      for (let i = 0; i < 3; i += 1) assert.throws(() => log.append(sampleEntry(0)), (error: unknown) => ForgeError.is(error, 'FO_AUDIT_WRITE_FAILED') && error.details['errno'] === 'ENOSPC');
      const lastStranded = log.seq;
      rmSync(join(fs.dir, 'filler'));
      // The writer retries the batch it could not write (100 ms, doubling to 5 s) and the log takes records again.
      await until(() => log.durableSeq >= lastStranded, 'the stranded batch is written once space is freed');
      await until(() => log.seq === lastStranded + 1, 'the outage is noted');
      const after = await log.appendDurable(sampleEntry(9999));
      await log.close();
      const records = await verifiedRecords(path, key, 'after the outage');
      assertAcked(records, [...acks, ...stranded, `${after} 9999`], 'after the outage');
      const outage = records.get(lastStranded + 1);
      assert.ok(outage?.type === 'event' && outage.action === 'audit.outage', `seq ${lastStranded + 1} notes the outage`);
      assert.equal(outage.principal, 'host:audit-log');
      assert.equal(outage.data?.['errno'], 'ENOSPC');
      assert.equal(outage.data?.['refused'], 3, 'it counts the refused records');
      assert.equal(typeof outage.data?.['down_ms'], 'number');
      const seqs = [...records.keys()].sort((a, b) => a - b);
      assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, n) => n + 1), 'one record per seq, no gap and none twice');
    } finally {
      fs.unmount();
    }
  });

  it('closed while the disk is full, stops retrying and says records were lost; after space is freed the log opens, verifies and appends', async (t: TestContext) => {
    const fs = mountTmpfs(t, 1024 * 1024);
    if (fs === undefined) return;
    try {
      const { path, key, log, acks, failure } = await logOnFullDisk(fs.dir);
      assert.ok(ForgeError.is(failure, 'FO_AUDIT_WRITE_FAILED'));
      await assert.rejects(log.close(), (error: unknown) => ForgeError.is(error, 'FO_AUDIT_WRITE_FAILED'), 'close does not wait for space');
      assert.throws(() => log.append(sampleEntry(0)), (error: unknown) => ForgeError.is(error, 'FO_AUDIT_WRITE_FAILED'), 'a stopped log takes no more records');
      rmSync(join(fs.dir, 'filler'));
      const reopened = await AuditLog.open({ path, signingKey: key });
      const seq = await reopened.appendDurable(sampleEntry(9999));
      await reopened.close();
      const records = await verifiedRecords(path, key, 'after freeing space');
      assertAcked(records, [...acks, `${seq} 9999`], 'after freeing space');
    } finally {
      fs.unmount();
    }
  });
});
