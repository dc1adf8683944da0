import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import type { TelemetryItem, ToHost } from './pool-protocol.js';
import { AGE_CHECK_EVERY, TELEMETRY_MAX_AGE_MS, WorkerOutbox } from './pool-worker-outbox.js';

const allowed = (n: number): TelemetryItem => ({ kind: 'audit', plugin: 'p', entry: { plugin: 'p', action: 'forge.time_now', resource: `r${n}`, allowed: true, reason: 'ok' } });

/** An outbox whose posts are recorded as the number of items of each telemetry batch. */
function outbox(): { box: WorkerOutbox; batches: number[]; told: { count: number } } {
  const batches: number[] = [];
  const told = { count: 0 };
  const port = { postMessage: (message: ToHost) => void (message.type === 'telemetry' && batches.push(message.items.length)) };
  return { box: new WorkerOutbox(port, () => void (told.count += 1)), batches, told };
}

describe('WorkerOutbox: what leaves a worker before a call ends (a call killed at its time limit loses what is still queued)', () => {
  it('posts a partial batch of allowed records once its oldest has waited TELEMETRY_MAX_AGE_MS, checked every AGE_CHECK_EVERY items', async () => {
    const { box, batches, told } = outbox();
    for (let i = 1; i < AGE_CHECK_EVERY; i += 1) box.queue(allowed(i));
    await sleep(TELEMETRY_MAX_AGE_MS + 5);
    assert.deepEqual(batches, [], 'no check before the 16th item: nothing posted however old');
    box.queue(allowed(AGE_CHECK_EVERY));
    assert.deepEqual(batches, [AGE_CHECK_EVERY], 'the 16th item finds the oldest past the age: the batch leaves');
    assert.equal(told.count, 1, 'a sandbox is told, to send it on at once');
    // A fresh batch counts (and is aged) from its own first item.
    await sleep(TELEMETRY_MAX_AGE_MS + 5);
    for (let i = 1; i < AGE_CHECK_EVERY; i += 1) box.queue(allowed(i));
    assert.deepEqual(batches, [AGE_CHECK_EVERY], 'the next batch is checked at its own 16th item');
    await sleep(TELEMETRY_MAX_AGE_MS + 5);
    box.queue(allowed(AGE_CHECK_EVERY));
    assert.deepEqual(batches, [AGE_CHECK_EVERY, AGE_CHECK_EVERY]);
  });

  it('posts a full batch, a refusal, an anomaly and a folding call’s counts at once, with what was queued before', () => {
    const { box, batches } = outbox();
    for (let i = 0; i < 256; i += 1) box.queue(allowed(i));
    assert.deepEqual(batches, [256]);
    box.queue(allowed(1));
    box.queue({ kind: 'audit', plugin: 'p', entry: { plugin: 'p', action: 'forge.kv_get', resource: 'kv:k', allowed: false, reason: 'no' } });
    box.queue({ kind: 'anomaly', plugin: 'p', anomaly: { kind: 'denial_burst', plugin: 'p', call: 'forge.kv_get', detail: 'd', at: 1 } });
    box.queue(allowed(2));
    box.queue({ kind: 'fold', plugin: 'p', progress: { call: 'run', kept: 1, folded: 1, counts: [['forge.time_now', null, 1]], other: 0 } });
    box.queue({ kind: 'log', plugin: 'p', record: { level: 'info', message: 'm', fields: {}, time: 1 } });
    assert.deepEqual(batches, [256, 2, 1, 2], 'the log waits for the next batch');
    box.flush();
    assert.deepEqual(batches, [256, 2, 1, 2, 1]);
  });
});
