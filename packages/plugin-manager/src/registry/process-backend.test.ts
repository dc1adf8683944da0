import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { join } from 'node:path';
import { rejectsWithCode } from '@forgeone/common/testing';
import { readAuditTail, type AuditEventRecord } from '@forgeone/microkernel';
import { PluginState } from '../lifecycle/index.js';
import { CHATTY_GUEST, fields, read, signedPlugin, signedWatPlugin, testRegistry, text } from './test-support/plugins.js';
import { until } from './test-support/until.js';

describe('the registry on the process backend (runtime.backend: process)', () => {
  it('runs plugins in confined sandboxes, one per plugin, with a dependency called through forge.call_plugin across sandboxes', async () => {
    const { registry, dir } = await testRegistry('process', '  audit:\n    level: decisions\n');
    try {
      await registry.loadPlugin(await signedPlugin('lib'));
      const app = await registry.loadPlugin(await signedPlugin('app', '1.0.0', '[dependencies]\nlib = "^1.0.0"\n\n[permissions]\nsyscalls = ["forge.call_plugin"]\n', true, true));
      await registry.startPlugin(app);
      assert.equal(read(await registry.call(app, 'relay', fields('lib', 'echo', text('through lib')))), 'through lib');
      assert.equal(read(await registry.call('lib', 'steps')), 'init,start,', 'started as the dependency of app');
    } finally {
      await registry.close();
    }
    // The relay decided forge.call_plugin in the host, and the host audited it once (the sandbox's own allow is dropped).
    const tail = await readAuditTail({ path: join(dir, 'audit.log'), limit: 1000 });
    const decisions = tail.records.filter((record): record is AuditEventRecord => record.type === 'event' && record.action === 'forge.call_plugin');
    assert.deepEqual(decisions.map((record) => [record.decision, record.resource]), [['allow', 'lib']]);
  });

  it('answers a call that makes 5,000 host calls at audit level all, each audited: the sandbox sends its telemetry in frames the host accepts, not one refused as a protocol violation', async () => {
    // Folding is turned off here (its largest value): every one of the 5,000 records crosses.
    const { registry, dir } = await testRegistry('process', '  audit:\n    level: all\n    max_call_records: 1000000\n');
    try {
      const chatty = await signedWatPlugin('chatty', CHATTY_GUEST);
      await registry.startPlugin(await registry.loadPlugin(chatty));
      assert.equal((await registry.call('chatty', 'work')).length, 0);
    } finally {
      await registry.close();
    }
    const tail = await readAuditTail({ path: join(dir, 'audit.log'), plugin: 'chatty' });
    assert.equal(tail.records.filter((record) => record.type === 'event' && record.action === 'forge.time_now').length, 5000);
  });

  it('kills only the sandbox that goes over its memory cgroup: FO_SANDBOX_MEMORY_LIMIT, the plugin restarts by its policy, its neighbour runs on', async () => {
    // 136 MiB of cgroup for 128 MiB of wasm memory and an 8 MiB runtime: Node's own heap needs more than 8.
    const { registry } = await testRegistry('process', '    process:\n      runtime_memory: 8MB\n  sandbox:\n    memory_limit: 128MB\n');
    try {
      const hog = await signedWatPlugin(
        'hog',
        `(module
          (memory (export "memory") 1)
          (func (export "forge_alloc") (param i32) (result i32) (i32.const 1024))
          (func (export "forge_free") (param i32 i32))
          (func (export "hog") (param i32 i32) (result i64)
            (drop (memory.grow (i32.const 2040)))
            (memory.fill (i32.const 65536) (i32.const 7) (i32.const 133000000))
            (i64.const 0)))`,
      );
      await registry.startPlugin(await registry.loadPlugin(hog));
      await registry.startPlugin(await registry.loadPlugin(await signedPlugin('calm')));
      await rejectsWithCode(registry.call('hog', 'hog'), 'FO_SANDBOX_MEMORY_LIMIT');
      await until(() => registry.get('hog').state === PluginState.Running && registry.get('hog').restarts === 1, 'the restart of hog');
      assert.equal(read(await registry.call('calm', 'echo', text('still here'))), 'still here');
      assert.equal(registry.get('calm').restarts, 0);
    } finally {
      await registry.close();
    }
  });
});
