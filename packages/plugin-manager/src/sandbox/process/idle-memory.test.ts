import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { CORE_GUEST } from '../test-support/guests.js';
import { RecordingHost, pluginSpec } from '../test-support/specs.js';
import { ProcessBackend } from './backend.js';
import { IDLE_COLLECT_MS, idleCollector, memoryReducer } from './idle-memory.js';
import { sharedMemory } from './ring.js';

/** Private memory (Private_Clean + Private_Dirty) of `pid`, in KiB. */
function privateKib(pid: number): number {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(text)?.[1] ?? 0);
  return field('Private_Clean') + field('Private_Dirty');
}

// npm run build compiles both native modules (CI fails the build without them).
describe('an idle sandbox collects its garbage', () => {
  it('collects once the doorbell stayed silent for the delay, and not when it rang', (t) => {
    const memory = sharedMemory();
    assert.ok(memory !== undefined && memoryReducer() !== undefined, 'npm run build made native/shared-memory.node and native/memory-reducer.node');
    const dir = mkdtempSync(join(tmpdir(), 'forge-idle-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    assert.equal(spawnSync('mkfifo', [join(dir, 'bell')]).status, 0);
    const bell = openSync(join(dir, 'bell'), 'r+'); // read and write: opening does not wait for a writer
    t.after(() => closeSync(bell));
    let collections = 0;
    const idle = idleCollector((fd, ms) => memory.waitReadable(fd, ms), { reduce: () => (collections += 1) }, 20);
    idle(bell);
    assert.equal(collections, 1, 'silent for 20 ms: one collection');
    writeSync(bell, new Uint8Array([1]));
    idle(bell);
    assert.equal(collections, 1, 'a doorbell byte waiting: no collection, the read follows');
    assert.throws(() => memory.waitReadable(bell, -1), /two non-negative integers/);
  });

  // Needs bubblewrap, user namespaces and writable cgroups, as backend.test.ts.
  it("gives back the young generation a sandbox's calls touched, and answers the next call", async (t) => {
    const backend = await ProcessBackend.create(new RecordingHost());
    t.after(() => backend.close());
    const handle = await backend.load(await pluginSpec(CORE_GUEST, { id: `idle-${process.pid}` }));
    const [sandbox] = backend.sandboxes();
    const pid = ((await sandbox?.cgroup?.pids()) ?? []).find((each) => readFileSync(`/proc/${each}/comm`, 'utf8').trim() === 'node');
    assert.ok(pid !== undefined);
    const payload = new Uint8Array(192 * 1024).fill(7);
    for (let i = 0; i < 24; i += 1) assert.equal((await handle.call('echo', payload)).length, payload.length);
    const busy = privateKib(pid);
    let idle = busy;
    for (const until = Date.now() + IDLE_COLLECT_MS + 4000; Date.now() < until && busy - idle < 512; ) {
      await sleep(100);
      idle = privateKib(pid);
    }
    assert.ok(busy - idle >= 512, `private memory ${busy} KiB right after the calls, ${idle} KiB once idle: at least 512 KiB given back`);
    assert.deepEqual(await handle.call('echo', new Uint8Array([1, 2, 3])), new Uint8Array([1, 2, 3]));
  });
});
