/**
 * The registry's audit log on a disk that fills up and frees again (docs/audit.md,
 * "Durability"), on a small tmpfs: while the log cannot write, a plugin's audited calls
 * are refused with the audit failure; once space is freed the log writes its stranded
 * records on its own, notes the outage, and the same plugin's calls are answered and
 * audited again, on a chain that verifies.
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { mountTmpfs } from '@forgeone/common/testing';
import { readAuditTail, verifyAuditLog, type AuditEventRecord } from '@forgeone/microkernel';
import { guestCodeOf } from '../abi/test-support/guest-code.js';
import { signedWatPlugin, testRegistry } from './test-support/plugins.js';
import { until } from './test-support/until.js';

// One forge.time_now per call, its answer (or refusal) returned as the call's.
const TICK = `(module
  (import "forge" "time_now" (func $time (param i32 i32) (result i64)))
  (memory (export "memory") 1)
  (func (export "forge_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "forge_free") (param i32 i32))
  (func (export "now") (param i32 i32) (result i64) (call $time (i32.const 0) (i32.const 0))))`;

describe('the registry when its audit log runs out of disk', () => {
  for (const backend of ['inline', 'pool', 'process'] as const) {
  it(`refuses audited calls while the disk is full, answers and audits them again once space is freed, without a restart; the outage is noted and the chain verifies (${backend})`, async (t: TestContext) => {
    const fs = mountTmpfs(t, 2 * 1024 * 1024);
    if (fs === undefined) return;
    try {
      const { registry, audit } = await testRegistry(backend, '  audit:\n    level: all\n', { auditDir: fs.dir });
      let refusedCalls = 0;
      try {
        await registry.startPlugin(await registry.loadPlugin(await signedWatPlugin('tick', TICK)));
        assert.equal((await registry.call('tick', 'now')).length, 16);
        await audit.flush();
        // Leave the log about 8 KiB.
        const room = await statfs(fs.dir);
        writeFileSync(join(fs.dir, 'filler'), Buffer.alloc(Math.max(0, room.bavail * room.bsize - 8192)));
        for (let i = 0; i < 10_000 && refusedCalls === 0; i += 1) {
          const code = await guestCodeOf(registry.call('tick', 'now'));
          if (code !== 'ok') {
            assert.equal(code, 'FO_ABI_HOST_DENIED', 'the audit failure refuses the call');
            refusedCalls += 1;
          }
          await audit.flush().catch(() => undefined);
        }
        assert.equal(refusedCalls, 1, 'the disk filled up');
        for (let i = 0; i < 3; i += 1) {
          assert.equal(await guestCodeOf(registry.call('tick', 'now')), 'FO_ABI_HOST_DENIED', 'refused while the disk is full');
          refusedCalls += 1;
        }
        const stranded = audit.seq;
        rmSync(join(fs.dir, 'filler'));
        await until(() => audit.durableSeq >= stranded && audit.seq > stranded, 'the log writes its stranded records and notes the outage');
        // Pool workers and sandboxes learn that the log is back from the record of their next
        // refusal, which the log now takes: at most one more call is refused there.
        let late = 0;
        for (; late < 2 && (await guestCodeOf(registry.call('tick', 'now'))) !== 'ok'; late += 1) refusedCalls += 1;
        assert.ok(late <= (backend === 'inline' ? 0 : 1), `${late} calls refused after the log recovered`);
        assert.equal((await registry.call('tick', 'now')).length, 16, 'answered again, without a restart');
      } finally {
        await registry.close();
      }
      const path = join(fs.dir, 'audit.log');
      const verification = await verifyAuditLog({ path });
      assert.equal(verification.ok, true, JSON.stringify(verification.problem));
      const tail = await readAuditTail({ path, limit: 100_000 });
      const events = tail.records.filter((record): record is AuditEventRecord => record.type === 'event');
      const outages = events.filter((record) => record.action === 'audit.outage');
      assert.equal(outages.length, 1);
      assert.ok(Number(outages[0]?.data?.['refused']) >= refusedCalls, `${String(outages[0]?.data?.['refused'])} refused records for ${refusedCalls} refused calls`);
      const last = events.filter((record) => record.action === 'forge.time_now').at(-1);
      assert.ok(last !== undefined && last.seq > (outages[0]?.seq ?? Infinity) && last.decision === 'allow', 'the call after the outage is audited');
    } finally {
      fs.unmount();
    }
  });
  }
});
