import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ForgeError } from '@forgeone/common';
import { throwsCode } from '@forgeone/common/testing';
import { setTimeout as sleep } from 'node:timers/promises';
import { CallAuditFold, FOLDED_ACTION, FOLD_CHECK_EVERY, FOLD_PROGRESS_MS, MAX_FOLDED_KEYS, type FoldProgress } from './audit-fold.js';
import type { BackendAuditEntry } from './plugin-gate.js';

const allow = (action: string, resource?: string): BackendAuditEntry => ({ plugin: 'p', action, resource, allowed: true, reason: 'ok' });
const deny = (action: string, resource: string): BackendAuditEntry => ({ plugin: 'p', action, resource, allowed: false, reason: 'no' });

function folder(limit: number): { fold: CallAuditFold; written: BackendAuditEntry[]; broken: { now: boolean } } {
  const written: BackendAuditEntry[] = [];
  const broken = { now: false };
  const refuse = (): void => {
    if (broken.now) throw new ForgeError('FO_AUDIT_WRITE_FAILED', 'the log stopped');
  };
  const fold = new CallAuditFold('p', limit, (entry) => (refuse(), written.push(entry)), refuse);
  return { fold, written, broken };
}

describe('CallAuditFold', () => {
  it('counts at most 32 distinct (action, resource) keys one by one and the rest in other, within the log data string limit', () => {
    const { fold, written } = folder(1);
    fold.begin('run');
    fold.record(allow('forge.time_now'));
    // 100 distinct long paths, twice each: 200 folded, at most 32 keys listed.
    for (let round = 0; round < 2; round += 1) for (let i = 0; i < 100; i += 1) fold.record(allow('wasi_snapshot_preview1.path_open', `/data/${'x'.repeat(300)}/${i}`));
    fold.end(false);
    const summary = written.at(-1);
    assert.equal(summary?.action, FOLDED_ACTION);
    const counts = JSON.parse(String(summary?.data?.['counts'])) as [string, string | null, number][];
    assert.ok(counts.length > 0 && counts.length <= MAX_FOLDED_KEYS, `${counts.length} keys listed`);
    assert.ok(String(summary?.data?.['counts']).length <= 1000);
    assert.ok(counts.every(([, resource]) => (resource ?? '').length <= 120), 'a key quotes at most 120 characters of its resource');
    assert.equal(counts.reduce((sum, [, , count]) => sum + count, 0) + Number(summary?.data?.['other']), 200, 'every folded record is counted once');
    assert.equal(summary?.data?.['folded'], 200);
  });

  it('never folds a denial, nor a record made outside a call', () => {
    const { fold, written } = folder(1);
    fold.record(allow('forge.time_now'));
    fold.record(allow('forge.time_now'));
    fold.begin('run');
    fold.record(allow('forge.time_now'));
    fold.record(allow('forge.time_now'));
    fold.record(deny('forge.kv_get', 'kv:a'));
    fold.record(deny('forge.kv_get', 'kv:b'));
    fold.end(false);
    assert.deepEqual(
      written.map((entry) => [entry.action, entry.resource, entry.allowed]),
      [
        ['forge.time_now', undefined, true],
        ['forge.time_now', undefined, true],
        ['forge.time_now', undefined, true],
        ['forge.kv_get', 'kv:a', false],
        ['forge.kv_get', 'kv:b', false],
        [FOLDED_ACTION, 'run', true],
      ],
    );
  });

  it('counts a nested call as part of the outer one: one summary when the outer call ends', () => {
    const { fold, written } = folder(1);
    fold.begin('outer');
    fold.record(allow('a'));
    fold.begin('inner');
    fold.record(allow('a'));
    fold.end(false);
    assert.equal(written.length, 1, 'no summary when the nested call ends');
    fold.record(allow('a'));
    fold.end(false);
    assert.deepEqual(written.at(-1)?.data, { call: 'outer', kept: 1, folded: 2, counts: '[["a",null,2]]', other: 0 });
  });

  it('refuses a folded record once the sink refuses (fail closed), and throws a summary the sink refuses only when the call itself succeeded', () => {
    const { fold, broken } = folder(1);
    fold.begin('run');
    fold.record(allow('a'));
    fold.record(allow('a'));
    broken.now = true;
    throwsCode(() => fold.record(allow('a')), 'FO_AUDIT_WRITE_FAILED');
    throwsCode(() => fold.end(false), 'FO_AUDIT_WRITE_FAILED');
    broken.now = false;
    fold.begin('run');
    fold.record(allow('a'));
    fold.record(allow('a'));
    broken.now = true;
    // The call's own error stands; the summary could not be written anywhere.
    fold.end(true);
  });

  it('reports the running counts of a folding call (for a call killed before it ends): at the first clock check, before each refusal, then at most every FOLD_PROGRESS_MS', async () => {
    const order: string[] = [];
    const reports: FoldProgress[] = [];
    const fold = new CallAuditFold('p', 1, (entry) => void order.push(`${entry.action}:${entry.allowed}`), () => undefined, (progress) => {
      reports.push(progress);
      order.push(`progress:${progress.folded}`);
    });
    fold.begin('run');
    fold.record(allow('forge.time_now'));
    for (let i = 1; i < FOLD_CHECK_EVERY; i += 1) fold.record(allow('forge.time_now'));
    assert.equal(reports.length, 0, 'no clock check before the 16th folded record');
    fold.record(allow('forge.kv_get', `kv:${'k'.repeat(300)}`));
    assert.deepEqual(reports, [{ call: 'run', kept: 1, folded: 16, counts: [['forge.time_now', null, 15], ['forge.kv_get', `kv:${'k'.repeat(117)}`, 1]], other: 0 }], 'the first check reports');
    fold.record(deny('forge.kv_get', 'kv:a'));
    assert.equal(reports.length, 1, 'nothing folded since the last report: the refusal goes alone');
    for (let i = 0; i < 3; i += 1) fold.record(allow('forge.time_now'));
    fold.record(deny('forge.kv_get', 'kv:b'));
    assert.deepEqual(order.slice(-2), ['progress:19', 'forge.kv_get:false'], 'the counts up to a refusal go before it');
    await sleep(FOLD_PROGRESS_MS + 5);
    for (let i = 19; i < 2 * FOLD_CHECK_EVERY; i += 1) fold.record(allow('forge.time_now'));
    assert.equal(reports.at(-1)?.folded, 32, 'reported again at the next check once FOLD_PROGRESS_MS has passed');
    fold.end(false);
    assert.equal(order.at(-1), `${FOLDED_ACTION}:true`);
    const before = reports.length;
    fold.begin('again');
    fold.record(allow('forge.time_now'));
    for (let i = 0; i < FOLD_CHECK_EVERY; i += 1) fold.record(allow('forge.time_now'));
    assert.deepEqual(reports.slice(before).map((report) => [report.call, report.folded]), [['again', 16]], 'a new call starts its own reports');
  });

  it('reports nothing without a progress sink (the inline backend: its calls are never killed)', () => {
    const { fold, written } = folder(1);
    fold.begin('run');
    for (let i = 0; i < 100; i += 1) fold.record(allow('forge.time_now'));
    fold.record(deny('forge.kv_get', 'kv:a'));
    fold.end(false);
    assert.deepEqual(written.map((entry) => entry.action), ['forge.time_now', 'forge.kv_get', FOLDED_ACTION]);
  });
});
