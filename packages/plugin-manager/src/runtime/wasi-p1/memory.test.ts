// WASI guest memory: the views every host call uses stay current when the guest's memory
// grows, whether or not the memory is shared (guest-memory.ts takes a fast path for a
// memory that is not shared: its old buffer is detached when it grows).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { throwsCode } from '@forgeone/common/testing';
import { ERRNO } from './abi.js';
import { wasm, type WasmMemory } from './engine.js';
import { WasiMemory } from './guest-memory.js';
import { Guest, runGuest } from './test-support/guest.js';
import { RIGHTS, open, preopened, rights } from './test-support/setup.js';

const PAGE = 65_536;

/** Refreshes `memory` and checks that it now sees `pages` pages: bounds and the bytes themselves. */
function seesPages(memory: WasiMemory, wasmMemory: WasmMemory, pages: number): void {
  memory.refresh();
  assert.equal(memory.u8.length, pages * PAGE);
  memory.check(pages * PAGE - 4, 4);
  assert.throws(() => memory.check(pages * PAGE - 3, 4));
  memory.setU32(pages * PAGE - 4, 0xfeedface);
  assert.equal(new DataView(wasmMemory.buffer).getUint32(pages * PAGE - 4, true), 0xfeedface);
}

describe('WASI guest memory', () => {
  it('sees a memory that is not shared grow, page by page, and by 0 pages', () => {
    const wasmMemory = new wasm.Memory({ initial: 1, maximum: 4 });
    const memory = new WasiMemory();
    memory.bind(wasmMemory);
    seesPages(memory, wasmMemory, 1);
    wasmMemory.grow(1);
    seesPages(memory, wasmMemory, 2);
    wasmMemory.grow(0);
    seesPages(memory, wasmMemory, 2);
    wasmMemory.grow(2);
    seesPages(memory, wasmMemory, 4);
  });

  it('sees a shared memory grow, though its old buffer keeps its old length', () => {
    const wasmMemory = new wasm.Memory({ initial: 1, maximum: 4, shared: true });
    const memory = new WasiMemory();
    memory.bind(wasmMemory);
    seesPages(memory, wasmMemory, 1);
    wasmMemory.grow(2);
    seesPages(memory, wasmMemory, 3);
  });

  it('sees the memory bound last, not the views of one bound before', () => {
    const first = new wasm.Memory({ initial: 2 });
    const second = new wasm.Memory({ initial: 1 });
    const memory = new WasiMemory();
    memory.bind(first);
    seesPages(memory, first, 2);
    memory.bind(second);
    seesPages(memory, second, 1);
  });

  it('refuses a call before any memory is bound (FO_WASI_NO_MEMORY)', () => {
    throwsCode(() => new WasiMemory().refresh(), 'FO_WASI_NO_MEMORY');
  });

  it('a memory of 0 pages that grows is seen at its new size', () => {
    const wasmMemory = new wasm.Memory({ initial: 0, maximum: 1 });
    const memory = new WasiMemory();
    memory.bind(wasmMemory);
    memory.refresh();
    assert.equal(memory.u8.length, 0);
    wasmMemory.grow(1);
    seesPages(memory, wasmMemory, 1);
  });

  it('fd_read reads into pages the guest grew after an earlier read, and not past them (EFAULT)', async () => {
    const { options } = await preopened({ 'a.txt': 'hello, grown memory' });
    const g = new Guest();
    const fd = open(g, 'a.txt', { base: rights(RIGHTS.FD_READ) });
    const low = g.buf(8);
    const n = g.buf(4);
    // The first read happens while the memory has its first size (the views are made then).
    g.must(g.call('fd_read', g.load(fd), g.iovec(low, 5), 1, n));
    const grownFrom = g.wat().match(/\(memory \(export "memory"\) (\d+)\)/)?.[1];
    assert.ok(grownFrom !== undefined);
    const high = Number(grownFrom) * PAGE + 100;
    const inNewPage = g.iovec(high, 14);
    const pastNewPage = g.iovec((Number(grownFrom) + 1) * PAGE - 4, 8);
    g.do('(drop (memory.grow (i32.const 1)))');
    g.must(g.call('fd_read', g.load(fd), inNewPage, 1, n));
    g.exit(g.call('fd_read', g.load(fd), pastNewPage, 1, n));
    const run = await runGuest(g, options);
    assert.equal(run.exitCode, ERRNO.EFAULT);
    assert.equal(run.memory.length, (Number(grownFrom) + 1) * PAGE);
    assert.equal(run.memory.subarray(low, low + 5).toString(), 'hello');
    assert.equal(run.memory.subarray(high, high + 14).toString(), ', grown memory');
  });
  it('fd_write after the guest grew by 0 then 1 page: the new last bytes are written, a buffer, an iovec list or a count one byte past them is EFAULT, as is address 2^32 - 1', async () => {
    const g = new Guest();
    const n = g.buf(4);
    const results = g.buf(20);
    const pages = Number(g.wat().match(/\(memory \(export "memory"\) (\d+)\)/)?.[1]);
    const end = (pages + 1) * PAGE;
    const lastFour = g.iovec(end - 4, 4);
    const straddling = g.iovec(end - 3, 4);
    g.do('(drop (memory.grow (i32.const 0)))');
    g.must(g.call('fd_write', 1, g.iovec(0, 0), 1, n));
    g.do('(drop (memory.grow (i32.const 1)))');
    g.do(`(i32.store (i32.const ${end - 4}) (i32.const 0x0a4b4f21))`);
    const store = (at: number, expression: string): void => void g.do(`(i32.store (i32.const ${results + at * 4}) ${expression})`);
    store(0, g.call('fd_write', 1, lastFour, 1, n));
    store(1, g.call('fd_write', 1, straddling, 1, n));
    store(2, g.call('fd_write', 1, end - 7, 1, n));
    store(3, g.call('fd_write', 1, lastFour, 1, end - 3));
    store(4, g.call('fd_write', 1, -1, 1, n));
    g.exit(0);
    const run = await runGuest(g);
    assert.equal(run.exitCode, 0);
    assert.equal(run.memory.length, end);
    assert.deepEqual([0, 1, 2, 3, 4].map((at) => run.u32(results + at * 4)), [0, ERRNO.EFAULT, ERRNO.EFAULT, ERRNO.EFAULT, ERRNO.EFAULT]);
    assert.equal(run.stdout, '!OK\n');
  });
});
