import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HostCallGate } from '@forgeone/common';
import { HostCallRecorder } from './host-call-trace.js';
import { MAX_TRACED_HOST_CALLS, callProbe } from './spec.js';

const allowAll: HostCallGate = { check: () => undefined, refuse: () => undefined };
const denyAll: HostCallGate = { check: () => ({ reason: 'no' }), refuse: () => undefined };

describe('host-call recording for tracing', () => {
  it('records a call only between begin and finish, with the decision and the times of its import', () => {
    const recorder = new HostCallRecorder((call) => (call === 'forge.kv_get' ? 'kv' : 'none'));
    const gate = recorder.gate(allowAll);
    const hostCall = recorder.wrap(() => gate.check('forge.kv_get', 'kv:a'));
    hostCall();
    const probe = callProbe(true);
    recorder.begin();
    hostCall();
    recorder.wrap(() => recorder.gate(denyAll).check('forge.kv_get'))();
    recorder.finish(probe);
    hostCall();
    assert.deepEqual(
      probe.hostCalls.map(({ call, decision, resourceKind }) => ({ call, decision, resourceKind })),
      [
        { call: 'forge.kv_get', decision: 'allow', resourceKind: 'kv' },
        { call: 'forge.kv_get', decision: 'deny', resourceKind: 'kv' },
      ],
    );
    for (const record of probe.hostCalls) assert.ok(record.start <= record.end && record.start > performance.timeOrigin);
    assert.equal(probe.droppedHostCalls, 0);
  });

  it(`keeps the first ${MAX_TRACED_HOST_CALLS} host calls of a call and counts the rest, so a chatty plugin cannot grow its trace`, () => {
    const recorder = new HostCallRecorder(() => 'none');
    const gate = recorder.gate(allowAll);
    const probe = callProbe(true);
    recorder.begin();
    for (let i = 0; i < MAX_TRACED_HOST_CALLS + 1000; i += 1) gate.check('wasi_snapshot_preview1.fd_write');
    gate.refuse('wasi_snapshot_preview1.path_open', '/x', 'ENOTCAPABLE');
    recorder.finish(probe);
    assert.equal(probe.hostCalls.length, MAX_TRACED_HOST_CALLS);
    assert.equal(probe.droppedHostCalls, 1001);
  });
});
