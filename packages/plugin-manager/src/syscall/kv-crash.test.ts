/**
 * The key-value store under crashes and a full disk (docs/security.md, "Crash
 * consistency"): a writer killed with SIGKILL at seeded random moments leaves a database
 * that passes `PRAGMA integrity_check` and holds every write it acknowledged; a write
 * that finds the disk full fails with FO_SYSCALL_KV_NO_SPACE, changes nothing, and once
 * space is freed the store writes again.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { CrashChild, crashPlan, measureCrashWindow, mountTmpfs, hasCode } from '@forgeone/common/testing';
import { KV_FILE_NAME, KvStore } from './kv-store.js';
import { DEFAULT_HOST_CALL_LIMITS } from './limits.js';

const CHILD = fileURLToPath(new URL('./test-support/kv-crash-child.js', import.meta.url));
/** Writes per child: enough that a kill lands between two of them most of the time. */
const WRITES = 40;

/** The value the child writes under key-i. */
function valueOf(i: number): Buffer {
  return Buffer.alloc(((i % 7) + 1) * 1024, i % 256);
}

/** Every row, by key, read with a plain connection after `PRAGMA integrity_check` passed. */
function readChecked(directory: string): Map<string, Buffer> {
  const db = new Database(join(directory, KV_FILE_NAME));
  try {
    assert.deepEqual(db.pragma('integrity_check'), [{ integrity_check: 'ok' }], 'the database passes integrity_check');
    const rows = db.prepare('SELECT key, value FROM kv').all() as { key: Buffer; value: Buffer }[];
    const usage = db.prepare('SELECT keys, bytes FROM usage WHERE id = 1').get() as { keys: number; bytes: number };
    const bytes = rows.reduce((sum, row) => sum + row.key.length + row.value.length, 0);
    assert.deepEqual(usage, { keys: rows.length, bytes }, 'the quota counter agrees with the rows');
    return new Map(rows.map((row) => [row.key.toString('utf8'), row.value]));
  } finally {
    db.close();
  }
}

describe('the key-value store killed at random moments', () => {
  const plan = crashPlan(20);
  it('passes integrity_check and keeps every acknowledged set and delete after each SIGKILL', { timeout: 120_000 + plan.iterations * 10_000 }, async (t: TestContext) => {
    const directory = join(mkdtempSync(join(tmpdir(), 'forge-kv-crash-')), 'plugin');
    let next = 0;
    const start = (): CrashChild => new CrashChild(CHILD, [directory, String(next), String(WRITES)]);
    const { windowMs } = await measureCrashWindow(start);
    let model = readChecked(directory);
    next += WRITES;
    const tally = { killed: 0, finished: 0, acks: 0 };
    for (let run = 0; run < plan.iterations; run += 1) {
      const first = next;
      const delay = plan.delay(windowMs);
      const end = await start().killAfter(delay);
      const label = `run ${run} (${plan.label}), killed after ${delay.toFixed(1)} ms`;
      const seen = readChecked(directory);
      const acked = new Set(end.acks);
      for (let i = first; i < first + WRITES; i += 1) {
        const key = `key-${i}`;
        if (acked.has(`-${i}`)) assert.equal(seen.has(key), false, `${label}: acknowledged delete of ${key} holds`);
        // After the ack of write i+3 the child may be deleting key i (the one in flight).
        else if (acked.has(String(i)) && !(isDeleter(i + 3) && acked.has(String(i + 3)))) assert.deepEqual(seen.get(key), valueOf(i), `${label}: acknowledged ${key} is there`);
      }
      for (const [key, value] of model) assert.deepEqual(seen.get(key), value, `${label}: ${key} of an earlier run is unchanged`);
      for (const key of seen.keys()) {
        const i = Number(key.slice(4));
        assert.ok(model.has(key) || (i >= first && i < first + WRITES), `${label}: ${key} was written by this run or an earlier one`);
      }
      model = seen;
      next += WRITES;
      tally[end.signal === 'SIGKILL' ? 'killed' : 'finished'] += 1;
      tally.acks += end.acks.length;
    }
    // The next operation works: a write after the last kill.
    const store = KvStore.open(directory, DEFAULT_HOST_CALL_LIMITS.kv);
    store.set(Buffer.from('after'), Buffer.from('crashes'));
    assert.deepEqual(Buffer.from(store.get(Buffer.from('after')) ?? []), Buffer.from('crashes'));
    store.close();
    t.diagnostic(`kv: ${WRITES} writes take ~${windowMs.toFixed(1)} ms; ${plan.label}: ${tally.killed} killed mid-way, ${tally.finished} finished, ${tally.acks} acks checked`);
  });
});

describe('the key-value store on a full disk', () => {
  it('refuses the write that does not fit with FO_SYSCALL_KV_NO_SPACE, keeps every earlier write, and writes again once space is freed', (t: TestContext) => {
    const fs = mountTmpfs(t, 1024 * 1024);
    if (fs === undefined) return;
    try {
      const directory = join(fs.dir, 'plugin');
      // Something else on the disk, removed later to free space.
      writeFileSync(join(fs.dir, 'filler'), Buffer.alloc(256 * 1024));
      const store = KvStore.open(directory, DEFAULT_HOST_CALL_LIMITS.kv);
      const value = Buffer.alloc(64 * 1024, 7);
      let stored = 0;
      let failure: unknown;
      for (; stored < 64; stored += 1) {
        try {
          store.set(Buffer.from(`key-${stored}`), value);
        } catch (error) {
          failure = error;
          break;
        }
      }
      assert.ok(stored > 0 && stored < 64, `some writes fit and then the disk was full (${stored} stored)`);
      assert.throws(() => {
        throw failure;
      }, hasCode('FO_SYSCALL_KV_NO_SPACE'));
      assert.match((failure as Error).message, /the disk holding it is full \(SQLITE_FULL\); nothing was changed/);
      assert.deepEqual(store.usage(), { keys: stored, bytes: stored * (value.length + `key-${stored}`.length) - sumShorter(stored) });
      store.close();
      const seen = readChecked(directory);
      assert.equal(seen.size, stored, 'every acknowledged write and nothing of the refused one');
      assert.equal(seen.has(`key-${stored}`), false);
      rmSync(join(fs.dir, 'filler'));
      const again = KvStore.open(directory, DEFAULT_HOST_CALL_LIMITS.kv);
      again.set(Buffer.from(`key-${stored}`), value);
      assert.equal(again.usage().keys, stored + 1, 'the refused write goes through once space is freed');
      again.close();
    } finally {
      fs.unmount();
    }
  });
});

/** True when the child's write `i` is followed by the delete of key i-3 (kv-crash-child.ts). */
function isDeleter(i: number): boolean {
  return i % 5 === 4;
}

/** How many bytes shorter than `key-<n>` the keys key-0 .. key-<n-1> are, summed. */
function sumShorter(n: number): number {
  let total = 0;
  for (let i = 0; i < n; i += 1) total += `key-${n}`.length - `key-${i}`.length;
  return total;
}
