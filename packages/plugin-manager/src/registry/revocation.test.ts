/**
 * Hostile tests: a marketplace's revocation reaches a running plugin (quarantined, its
 * instance released, its calls refused, a `plugin.revoke` deny record) and keeps it
 * from being loaded again (FO_MARKET_PLUGIN_REVOKED, a `plugin.load` deny record).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { rejectsWithCode } from '@forgeone/common/testing';
import { readAuditTail, type AuditEventRecord } from '@forgeone/microkernel';
import { PluginState } from '../lifecycle/index.js';
import type { Revocation } from './marketplace/index.js';
import { PUBLISHERS, packagedPlugin, testRegistry } from './test-support/plugins.js';

const DATE = '2026-12-01T00:00:00Z';

async function denials(dir: string, action: string): Promise<AuditEventRecord[]> {
  const tail = await readAuditTail({ path: join(dir, 'audit.log'), limit: 1000 });
  return tail.records.filter((record): record is AuditEventRecord => record.type === 'event' && record.action === action && record.decision === 'deny');
}

describe('marketplace revocations in the registry', () => {
  for (const backend of ['inline', 'pool'] as const) {
    it(`quarantines a running plugin a revocation covers and refuses to load it again (${backend})`, async (t) => {
      const { registry, dir } = await testRegistry(backend);
      t.after(() => registry.close());
      const revoked = await registry.loadPlugin(await packagedPlugin({ name: 'wallet', version: '1.2.0' }));
      const kept = await registry.loadPlugin(await packagedPlugin({ name: 'weather' }));
      await registry.startPlugin(revoked);
      await registry.startPlugin(kept);
      assert.deepEqual([...(await registry.call(revoked, 'echo', new Uint8Array([7])))], [7]);

      // Another version of it, another publisher's plugin of that name: not covered.
      const misses: Revocation[] = [
        { plugin: 'wallet', version: '1.1.0', reason: 'an older release', date: DATE },
        { publisher: PUBLISHERS.other, plugin: 'wallet', reason: 'a namesake', date: DATE },
      ];
      assert.deepEqual(await registry.applyRevocations(misses, 'https://market.example'), []);
      assert.equal(registry.get(revoked).state, PluginState.Running);

      const hit: Revocation = { publisher: PUBLISHERS.test, plugin: 'wallet', version: '1.2.0', reason: 'leaks keys', date: DATE };
      assert.deepEqual(await registry.applyRevocations([...misses, hit], 'https://market.example'), [revoked]);
      assert.equal(registry.get(revoked).state, PluginState.Quarantined);
      await rejectsWithCode(registry.call(revoked, 'echo', new Uint8Array([7])), 'FO_LIFECYCLE_QUARANTINED', 'a call to the revoked plugin');
      const refused = await rejectsWithCode(registry.startPlugin(revoked), 'FO_LIFECYCLE_QUARANTINED', 'starting it again');
      assert.match(refused.message, /revoked by https:\/\/market\.example: .*leaks keys/);
      assert.deepEqual([...(await registry.call(kept, 'echo', new Uint8Array([9])))], [9], 'the other plugin runs on');
      // Applying the same list again quarantines nothing more.
      assert.deepEqual(await registry.applyRevocations([hit], 'https://market.example'), []);

      await registry.unloadPlugin(revoked);
      await rejectsWithCode(registry.loadPlugin(await packagedPlugin({ name: 'wallet', version: '1.2.0' })), 'FO_MARKET_PLUGIN_REVOKED', 'loading it again');
      // A newer version the revocation does not name loads.
      await registry.loadPlugin(await packagedPlugin({ name: 'wallet', version: '1.3.0' }));
      await registry.close();

      const [revoke, ...more] = await denials(dir, 'plugin.revoke');
      assert.equal(more.length, 0, 'one plugin.revoke record');
      assert.equal(revoke?.resource, 'wallet');
      assert.match(revoke?.reason ?? '', /^FO_MARKET_PLUGIN_REVOKED: .*leaks keys/);
      assert.equal(revoke?.data?.['source'], 'https://market.example');
      const quarantines = (await readAuditTail({ path: join(dir, 'audit.log'), limit: 1000 })).records.filter((record) => record.type === 'event' && record.action.includes('quarantine'));
      assert.equal(quarantines.length, 1, 'the lifecycle observer records the quarantine too');
      assert.match(JSON.stringify(quarantines[0]), /revoked by https:\/\/market\.example: .*leaks keys/);
      const loads = await denials(dir, 'plugin.load');
      assert.equal(loads.length, 1);
      assert.match(loads[0]?.reason ?? '', /^FO_MARKET_PLUGIN_REVOKED: /);
    });
  }

  it('revokes every plugin of a publisher, and lifts nothing it did not put', async (t) => {
    const { registry } = await testRegistry('inline');
    t.after(() => registry.close());
    const a = await registry.loadPlugin(await packagedPlugin({ name: 'alpha' }));
    const b = await registry.loadPlugin(await packagedPlugin({ name: 'beta' }));
    await registry.startPlugin(a);
    assert.deepEqual((await registry.applyRevocations([{ publisher: PUBLISHERS.test, reason: 'key compromised', date: DATE }], 'market')).sort(), [a, b].sort());
    assert.equal(registry.get(a).state, PluginState.Quarantined);
    assert.equal(registry.get(b).state, PluginState.Quarantined, 'a loaded plugin that never started is quarantined too');
    // An empty list later does not thaw a quarantine: an operator unloads the plugin.
    assert.deepEqual(await registry.applyRevocations([], 'market'), []);
    assert.equal(registry.get(a).state, PluginState.Quarantined);
  });
});
