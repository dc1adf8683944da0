// A large input through the process backend's relay: from 256 KiB an input that fits the
// slot is copied into it after the relay is woken (pool-protocol.ts, WORD.INPUT_READY), so
// the relay must wait for it (Slot.input). Read at once, the slot still held the previous
// answer: with one sandbox per publisher, another plugin's.
//
// Needs bubblewrap, user namespaces and writable cgroups, as backend.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CORE_GUEST } from '../test-support/guests.js';
import { RecordingHost, pluginSpec } from '../test-support/specs.js';
import { DEFAULT_SLOT_BYTES } from '../pool-protocol.js';
import { ProcessBackend } from './backend.js';

describe('process backend: streamed inputs', () => {
  it('never hands a plugin the bytes of another plugin’s answer in its sandbox as its input (256 KiB to exactly the slot)', async (t) => {
    const backend = await ProcessBackend.create(new RecordingHost(), { groupBy: 'publisher' });
    t.after(() => backend.close());
    const secretive = await backend.load(await pluginSpec(CORE_GUEST, { name: 'secretive' }));
    const neighbour = await backend.load(await pluginSpec(CORE_GUEST, { name: 'neighbour' }));
    const secret = new Uint8Array(DEFAULT_SLOT_BYTES).fill(0x53);
    for (let round = 0; round < 6; round += 1) {
      for (const size of [256 * 1024, DEFAULT_SLOT_BYTES]) {
        // The secret answer is left in the data area of the sandbox's one slot.
        assert.equal((await secretive.call('echo', secret)).length, secret.length);
        const input = new Uint8Array(size).fill(0x4e);
        const output = await neighbour.call('echo', input);
        assert.equal(output.length, size);
        assert.equal(output.indexOf(0x53), -1, `round ${round}, ${size} bytes: none of the other plugin's answer`);
      }
    }
  });
});
