import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ForgeError, IdentityContext } from '@forgeone/common';
import { formatTimestamp } from './format.js';
import { HOT_REPEATS, ReportBytesCache } from './report-cache.js';
import { AuditLog } from './log.js';
import type { AuditDecisionReport } from './record.js';
import { tempDir } from './test-support/logs.js';
import { verifyAuditLog } from './verify.js';

const host = new IdentityContext('host');
const demo = host.forPlugin({ publisher: 'acme', name: 'demo', version: '1.0.0', digest: `sha256:${'c'.repeat(64)}`, attested: true });
const other = host.forPlugin({ publisher: 'evil', name: 'other', version: '2.0.0', digest: `sha256:${'d'.repeat(64)}`, attested: true });
const READ = 'wasi_snapshot_preview1.fd_read';
const OPEN = 'wasi_snapshot_preview1.path_open';

// Reports that repeat and differ in one field at a time, so that any field the cache
// failed to compare would show up as a stale record.
const REPORTS: AuditDecisionReport[] = [
  { identity: demo, action: READ, resource: 'fd:3', allowed: true, reason: 'fd rights' },
  { identity: demo, action: READ, resource: 'fd:3', allowed: true, reason: 'fd rights' },
  { identity: demo, action: READ, resource: 'fd:4', allowed: true, reason: 'fd rights' },
  { identity: demo, action: READ, resource: 'fd:4', allowed: false, reason: 'fd rights' },
  { identity: demo, action: READ, resource: 'fd:4', allowed: false, reason: 'ENOTCAPABLE: no read right' },
  { identity: demo, action: READ, resource: undefined, allowed: false, reason: 'ENOTCAPABLE: no read right' },
  { identity: demo, action: OPEN, resource: '/data/a', allowed: true, reason: 'granted', requested: 'a' },
  { identity: demo, action: OPEN, resource: '/data/a', allowed: true, reason: 'granted', requested: '../data/a\u202e' },
  { identity: demo, action: OPEN, resource: '/data/a', allowed: true, reason: 'granted' },
  { identity: other, action: OPEN, resource: '/data/a', allowed: true, reason: 'granted' },
  { identity: demo, action: OPEN, resource: '/data/a', allowed: true, reason: 'granted' },
  { identity: demo, action: READ, resource: 'fd:3', allowed: true, reason: 'fd rights' },
];

/** Records `report` into `cached` as the bridge does, and the same entry into `fresh` by append(). */
function recordBoth(cached: AuditLog, fresh: AuditLog, report: (typeof REPORTS)[number]): void {
  cached.record(report);
  fresh.append({
    principal: report.identity.principal,
    plugin: report.identity.plugin?.digest,
    action: report.action,
    resource: report.resource,
    decision: report.allowed ? 'allow' : 'deny',
    reason: report.reason,
    ...(report.requested === undefined ? {} : { data: { requested: report.requested } }),
  });
}

describe('AuditLog.record: pre-encoded bridge reports', () => {
  it('writes, for reports that repeat and vary, byte for byte the records append() writes for the same entries', async () => {
    const dir = await tempDir();
    const clock = () => Date.UTC(2025, 0, 2, 3, 4, 5, 678);
    const cached = await AuditLog.open({ path: join(dir, 'cached.log'), level: 'all', clock });
    const fresh = await AuditLog.open({ path: join(dir, 'fresh.log'), level: 'all', clock });
    for (const report of REPORTS) {
      recordBoth(cached, fresh, report);
    }
    await cached.close();
    await fresh.close();
    const written = await readFile(join(dir, 'cached.log'), 'utf8');
    assert.equal(written.split('\n').length, REPORTS.length + 1);
    assert.equal(written, await readFile(join(dir, 'fresh.log'), 'utf8'));
    const verified = await verifyAuditLog({ path: join(dir, 'cached.log'), threads: 1 });
    assert.equal(verified.ok, true);
    assert.equal(verified.records, REPORTS.length);
  });

  it('writes the same bytes as append() while the clock moves between records and the seq gains digits', async () => {
    const dir = await tempDir();
    // The millisecond changes every third record, sometimes within a run of one report.
    const clocked = (): (() => number) => {
      let reads = 0;
      return () => Date.UTC(2025, 0, 2, 3, 4, 5, 678) + Math.floor((reads += 1) / 3);
    };
    const cached = await AuditLog.open({ path: join(dir, 'cached.log'), level: 'all', clock: clocked() });
    const fresh = await AuditLog.open({ path: join(dir, 'fresh.log'), level: 'all', clock: clocked() });
    // 9 rounds of the 12 reports: seqs 1 to 108, crossing 9 -> 10 and 99 -> 100.
    for (let round = 0; round < 9; round += 1) {
      for (const report of REPORTS) {
        recordBoth(cached, fresh, report);
      }
    }
    await cached.close();
    await fresh.close();
    const written = await readFile(join(dir, 'cached.log'), 'utf8');
    const lines = written.trimEnd().split('\n');
    assert.equal(lines.length, 9 * REPORTS.length);
    // About one timestamp per three records (the log reads its clock on open too).
    assert.ok(new Set(lines.map((line) => (JSON.parse(line) as { ts: string }).ts)).size >= (9 * REPORTS.length) / 3 - 1);
    assert.equal(written, await readFile(join(dir, 'fresh.log'), 'utf8'));
    const verified = await verifyAuditLog({ path: join(dir, 'cached.log'), threads: 1 });
    assert.deepEqual([verified.ok, verified.records], [true, 9 * REPORTS.length]);
  });

  it('writes the same bytes as append() for runs of repeats long enough to be copied word-wise, past the number of reports kept copied, while the clock moves', async () => {
    const dir = await tempDir();
    const clocked = (): (() => number) => {
      let reads = 0;
      return () => Date.UTC(2025, 0, 2, 3, 4, 5, 678) + Math.floor((reads += 1) / 7);
    };
    const cached = await AuditLog.open({ path: join(dir, 'cached.log'), level: 'all', clock: clocked() });
    const fresh = await AuditLog.open({ path: join(dir, 'fresh.log'), level: 'all', clock: clocked() });
    // 80 actions (more than the 64 kept copied at once), each in a run of HOT_REPEATS + 9
    // records, then the first ones again (their copies were dropped, and are earned again):
    // seqs cross 3, 4 and 5 digits, so the records land at every alignment.
    const actions = Array.from({ length: 80 }, (_, i) => `wasi_snapshot_preview1.fd_read_${i}`);
    let records = 0;
    for (const action of [...actions, ...actions.slice(0, 4)]) {
      for (let i = 0; i < HOT_REPEATS + 9; i += 1) {
        recordBoth(cached, fresh, { identity: i % 20 === 19 ? other : demo, action, resource: 'fd:3', allowed: true, reason: 'fd rights' });
        records += 1;
      }
    }
    await cached.close();
    await fresh.close();
    const written = await readFile(join(dir, 'cached.log'), 'utf8');
    assert.equal(written.trimEnd().split('\n').length, records);
    assert.equal(written, await readFile(join(dir, 'fresh.log'), 'utf8'));
    const verified = await verifyAuditLog({ path: join(dir, 'cached.log'), threads: 1 });
    assert.deepEqual([verified.ok, verified.records], [true, records]);
  });

  it('refuses an invalid report with FO_AUDIT_RECORD_INVALID every time, writes nothing for it, and records the next valid one', async () => {
    const path = join(await tempDir(), 'audit.log');
    const log = await AuditLog.open({ path, level: 'all' });
    const hostile = { identity: demo, action: 'x'.repeat(257), resource: 'fd:3', allowed: true, reason: 'fd rights' };
    for (let attempt = 0; attempt < 2; attempt += 1) {
      assert.throws(
        () => log.record(hostile),
        (error: unknown) => error instanceof ForgeError && error.code === 'FO_AUDIT_RECORD_INVALID',
      );
    }
    assert.equal(log.seq, 0);
    log.record(REPORTS[0] as AuditDecisionReport);
    assert.equal(log.seq, 1);
    await log.close();
    const verified = await verifyAuditLog({ path, threads: 1 });
    assert.deepEqual([verified.ok, verified.records], [true, 1]);
  });

  it('gives each record its own report’s time (`at`), plugin and resource when two plugins interleave one call and times go back and forth', async () => {
    const path = join(await tempDir(), 'audit.log');
    const log = await AuditLog.open({ path, level: 'all' });
    const base = Date.UTC(2025, 0, 2, 3, 4, 5, 678);
    // The same action and resource from both plugins, times repeating, moving on, and going back.
    const times = [0, 0, 1, 1, 0, 2, 2, 1, 5, 5, 4, 5];
    const reports = times.map((offset, i): AuditDecisionReport => ({ identity: i % 3 === 0 ? other : demo, action: READ, resource: i % 4 === 3 ? 'fd:4' : 'fd:3', allowed: true, reason: 'fd rights', at: base + offset }));
    for (const report of reports) log.record(report);
    await log.close();
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n').map((line) => JSON.parse(line) as { seq: number; ts: string; plugin?: string; resource?: string });
    assert.deepEqual(
      lines.map(({ seq, ts, plugin, resource }) => [seq, ts, plugin, resource]),
      reports.map((report, i) => [i + 1, formatTimestamp(report.at ?? 0), report.identity.plugin?.digest, report.resource]),
    );
    const verified = await verifyAuditLog({ path, threads: 1 });
    assert.deepEqual([verified.ok, verified.records], [true, reports.length]);
  });
  it('writes the same bytes as append() for copied runs of hostile strings (JSON escapes, unicode, 16 KiB, differing only at the end), the clock going back, seqs gaining digits, across rotations', async () => {
    const root = await tempDir();
    // The clock steps forward, then back a millisecond, every few reads.
    const clocked = (): (() => number) => {
      let reads = 0;
      return () => Date.UTC(2025, 0, 2, 3, 4, 5, 678) + [0, 1, 2, 1, 0, 3][Math.floor((reads += 1) / 5) % 6]!;
    };
    const logs = await Promise.all(['cached', 'fresh'].map(async (name) => {
      const dir = join(root, name);
      return { dir, log: await AuditLog.open({ path: join(dir, 'audit.log'), level: 'all', clock: clocked(), rotateSize: 64 * 1024 }) };
    }));
    const [cached, fresh] = logs as [(typeof logs)[number], (typeof logs)[number]];
    const long = 'x'.repeat(16 * 1024);
    const resources = [
      '/data/"quoted"\\back\nline\ttab\u0000nul\u001f\u007f',
      '/data/\u00e9t\u00e9/\u65e5\u672c/\ud83d\ude00/\u202e\u2028\u2029',
      '/data/lone \ud800 surrogate',
      `/data/${long}a`,
      `/data/${long}b`,
      '\u00ff\u0100',
    ];
    let records = 0;
    // The same reports through a cache of their own, to tell that they were copied.
    const probe = new ReportBytesCache();
    let copiedAll = true;
    for (let round = 0; round < 2; round += 1) {
      for (const [i, resource] of resources.entries()) {
        // Long enough for both identities' reports to be copied, then one denial.
        for (let n = 0; n <= 4 * HOT_REPEATS; n += 1) {
          const report: AuditDecisionReport = { identity: n % 3 === 2 ? other : demo, action: `${OPEN}\u00e9"${i}`, resource, allowed: n !== 4 * HOT_REPEATS, reason: `granted \u2713 "${i}"`, requested: resource.slice(0, 40) };
          recordBoth(cached.log, fresh.log, report);
          const seen = probe.timed(report.identity, report.action, report.resource, report.allowed, report.reason, report.requested, '2025-01-02T03:04:05.678Z');
          if (n === 4 * HOT_REPEATS - 1) copiedAll &&= seen.copies !== undefined;
          records += 1;
        }
      }
    }
    await cached.log.close();
    await fresh.log.close();
    const files = (await readdir(cached.dir)).sort();
    assert.deepEqual(files, (await readdir(fresh.dir)).sort());
    assert.ok(files.filter((file) => file.startsWith('audit.log')).length > 2, `rotated: ${files.join(', ')}`);
    for (const file of files) {
      assert.ok((await readFile(join(cached.dir, file))).equals(await readFile(join(fresh.dir, file))), file);
    }
    const verified = await verifyAuditLog({ path: join(cached.dir, 'audit.log'), threads: 1 });
    assert.equal(verified.ok, true);
    let events = 0;
    for (const file of files) {
      for (const line of (await readFile(join(cached.dir, file), 'utf8')).split('\n')) if (line.includes('"type":"event"')) events += 1;
    }
    assert.equal(events, records, 'every report is one event record');
    assert.equal(copiedAll, true, 'every run was long enough to be copied word-wise');
  });
});
