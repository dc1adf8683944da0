import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { OP, Slot, WORD } from './pool-protocol.js';

/** A thread that says it starts reading, reads `length` bytes of the slot's request payload with Slot.input, and posts their sum. */
function reader(buffer: SharedArrayBuffer, length: number): Worker {
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.module).then(({ Slot }) => {
      const slot = new Slot(workerData.buffer);
      parentPort.postMessage('reading');
      const bytes = slot.input(workerData.length);
      let sum = 0;
      for (const byte of bytes) sum += byte;
      parentPort.postMessage({ sum, length: bytes.length });
    });`;
  return new Worker(source, { eval: true, workerData: { buffer, length, module: new URL('./pool-protocol.js', import.meta.url).href } });
}

describe('pool slot: a streamed request payload', () => {
  it('is read only once the host published it, however late', async () => {
    const length = 256 * 1024;
    const slot = new Slot(Slot.allocate(length));
    slot.writeRequest({ op: OP.CALL, plugin: 1, name: 0, length, streamed: true });
    assert.equal(slot.readRequest().streamed, true);
    const thread = reader(slot.buffer, length);
    assert.deepEqual(await once(thread, 'message'), ['reading']);
    const answered = once(thread, 'message');
    // Longer than the reader's 200 us spin: it must be waiting on the word by now.
    await sleep(50);
    slot.data.fill(3, 0, length);
    slot.publishInput(length);
    const [message] = (await answered) as [{ sum: number; length: number }];
    assert.deepEqual(message, { sum: 3 * length, length });
    assert.equal(slot.readRequest().streamed, false);
    await thread.terminate();
  });

  it('is ready at once when the request was not streamed', () => {
    const slot = new Slot(Slot.allocate(1024));
    slot.data.fill(5, 0, 100);
    slot.writeRequest({ op: OP.CALL, plugin: 1, name: 0, length: 100 });
    assert.equal(Atomics.load(slot.header, WORD.INPUT_READY), 100);
    assert.equal(slot.readRequest().streamed, false);
    assert.deepEqual(slot.input(100), new Uint8Array(100).fill(5));
  });
});
