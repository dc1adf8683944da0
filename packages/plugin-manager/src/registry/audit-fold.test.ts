import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readAuditTail, verifyAuditLog, type AuditEventRecord } from '@forgeone/microkernel';
import { CHATTY_GUEST, signedWatPlugin, testRegistry } from './test-support/plugins.js';


describe('audit.max_call_records through the registry and a real audit log', () => {
  for (const backend of ['inline', 'pool', 'process'] as const) {
    it(`${backend}: a call of 5,000 allowed host calls at level all writes the default 1,000 one by one and one audit.folded record of 4,000 forge.time_now; the chain verifies`, async () => {
      const { registry, dir } = await testRegistry(backend, '  audit:\n    level: all\n');
      try {
        await registry.startPlugin(await registry.loadPlugin(await signedWatPlugin('chatty', CHATTY_GUEST)));
        assert.equal((await registry.call('chatty', 'work')).length, 0);
      } finally {
        await registry.close();
      }
      const path = join(dir, 'audit.log');
      const tail = await readAuditTail({ path, plugin: 'chatty', limit: 10_000 });
      const events = tail.records.filter((record): record is AuditEventRecord => record.type === 'event');
      assert.equal(events.filter((record) => record.action === 'forge.time_now').length, 1000);
      const folded = events.filter((record) => record.action === 'audit.folded');
      assert.equal(folded.length, 1);
      assert.equal(folded[0]?.decision, 'allow');
      assert.equal(folded[0]?.resource, 'work');
      assert.deepEqual({ ...folded[0]?.data, counts: JSON.parse(String(folded[0]?.data?.['counts'])) as unknown }, { call: 'work', kept: 1000, folded: 4000, counts: [['forge.time_now', null, 4000]], other: 0 });
      const verification = await verifyAuditLog({ path });
      assert.equal(verification.ok, true, JSON.stringify(verification).slice(0, 500));
    });
  }
});
