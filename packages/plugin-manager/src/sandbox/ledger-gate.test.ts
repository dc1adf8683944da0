/**
 * The ledger gate: once the host's halt returns, a worker thread that keeps recording
 * records nothing more (it blocks at its next record); a thread recording when the host
 * halts finishes that record first; nested records of one thread count once.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { LedgerGate, haltLedger } from './ledger-gate.js';

const GATE_URL = new URL('./ledger-gate.js', import.meta.url).href;

describe('ledger gate', () => {
  it('stops a thread that records in a loop: nothing is recorded after the halt returns', async () => {
    const buffer = new SharedArrayBuffer(64);
    const counter = new Int32Array(buffer, 16, 1);
    const worker = new Worker(
      `import { LedgerGate } from ${JSON.stringify(GATE_URL)}; import { workerData } from 'node:worker_threads';
       const gate = new LedgerGate(workerData, 0); const counter = new Int32Array(workerData, 16, 1);
       for (;;) { gate.enter(); gate.enter(); Atomics.add(counter, 0, 1); gate.leave(); gate.leave(); }`,
      { eval: true, workerData: buffer, type: 'module' } as ConstructorParameters<typeof Worker>[1],
    );
    try {
      while (Atomics.load(counter, 0) < 1000) await new Promise((resolve) => setTimeout(resolve, 1));
      // The halt stays set when the bound runs out (a thread descheduled mid-record on a loaded
      // machine): looking again waits for the same record, never for a new one.
      let halted = haltLedger(buffer, 0);
      for (let again = 0; !halted && again < 100; again += 1) halted = haltLedger(buffer, 0);
      assert.equal(halted, true, 'the thread finished its record');
      const atHalt = Atomics.load(counter, 0);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(Atomics.load(counter, 0), atHalt, 'nothing recorded after the halt');
      assert.equal(new Int32Array(buffer, 0, 2)[1], 0, 'no thread busy');
    } finally {
      await worker.terminate();
    }
  });

  it('on the host, a thread busy past the bound is reported, and the halt stays set', () => {
    const buffer = new SharedArrayBuffer(64);
    const gate = new LedgerGate(buffer, 8);
    gate.enter();
    assert.equal(haltLedger(buffer, 8), false, 'this very thread is inside a record');
    assert.equal(haltLedger(buffer, 8, 0), false, 'no wait for a worker known to have ended: still busy, said at once');
    gate.leave();
    assert.equal(haltLedger(buffer, 8), true);
    assert.equal(new Int32Array(buffer, 8, 2)[0], 1);
  });
});
