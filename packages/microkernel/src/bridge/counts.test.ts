import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IdentityContext } from '@forgeone/common';
import { EMPTY_CEILING, TrustContext } from '../trust/index.js';
import { SyscallBridge } from './bridge.js';
import { DecisionCounts } from './counts.js';

const plugin = { publisher: 'acme', name: 'counted', version: '1.0.0', digest: `sha256:${'c'.repeat(64)}`, attested: true };
const ceiling = { ...EMPTY_CEILING, filesystem: ['read' as const] };

describe('host-call counts in the bridge pipeline', () => {
  it('counts every passage by call and decision: cached allows, denials and refusals made outside policy', () => {
    const host = new IdentityContext('host');
    const trust = new TrustContext(host, { policy: { networkAccess: 'none', grants: {} } });
    const counts = new DecisionCounts();
    const gate = new SyscallBridge({ trust, counts }).gateFor(trust.registerPlugin(plugin, ceiling), host.forPlugin(plugin));
    for (let i = 0; i < 3; i += 1) assert.equal(gate.check('wasi_snapshot_preview1.clock_time_get'), undefined);
    assert.notEqual(gate.check('forge.kv_get', 'kv:secret'), undefined);
    gate.refuse('wasi_snapshot_preview1.path_open', '/etc/passwd', 'ENOTCAPABLE: outside every preopen');
    const expected = [
      { call: 'forge.kv_get', allowed: 0, denied: 1 },
      { call: 'wasi_snapshot_preview1.clock_time_get', allowed: 3, denied: 0 },
      { call: 'wasi_snapshot_preview1.path_open', allowed: 0, denied: 1 },
      
    ];
    assert.deepEqual(counts.totals(), expected);
    assert.deepEqual(counts.takeDeltas().sort((a, b) => a.call.localeCompare(b.call)), expected);
    assert.equal(counts.changed, false);
    assert.deepEqual(counts.takeDeltas(), [], 'nothing new');
    gate.check('wasi_snapshot_preview1.clock_time_get');
    assert.deepEqual(counts.takeDeltas(), [{ call: 'wasi_snapshot_preview1.clock_time_get', allowed: 1, denied: 0 }], 'only what is new');
  });
});
