import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { constants as os, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { errnoName } from './abi.js';
import { WasiErrno, failHost } from './errno.js';
import { nativeWasiIo, readVectors, useNativeWasiIo, writeVectors } from './host-io.js';

// The native module (native/wasi-io.c) and the node:fs way must answer every case the same.
// Under CI the module must have been built: a missing one fails instead of skipping.
const built = nativeWasiIo();
const WAYS = [
  { way: 'native preadv/pwritev', native: true, skip: !built && process.env.CI === undefined ? 'native/wasi-io.node was not built' : false },
  { way: 'node:fs', native: false, skip: false },
] as const;

/** Guest memory of 256 bytes with the iovec list `pairs` (offset, length) at 0. */
function memoryWith(pairs: readonly (readonly [number, number])[]): Uint8Array {
  const memory = new Uint8Array(256);
  const view = new DataView(memory.buffer);
  pairs.forEach(([offset, length], index) => {
    view.setUint32(index * 8, offset, true);
    view.setUint32(index * 8 + 4, length, true);
  });
  return memory;
}

function errnoOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof WasiErrno) return errnoName(error.errno);
    throw error;
  }
  return 'no error';
}

let dir = '';
let file = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'forge-wasi-io-'));
  file = join(dir, 'data.bin');
  writeFileSync(file, 'abcdefghij');
});
after(async () => {
  useNativeWasiIo(true);
  await rm(dir, { recursive: true, force: true });
});

for (const { way, native, skip } of WAYS) {
  describe(`WASI host file I/O (${way})`, { skip }, () => {
    before(() => {
      useNativeWasiIo(native);
      assert.equal(nativeWasiIo(), native, 'the way under test is the one in use');
    });

    it('reads a scatter list in order at the position, stopping short at the end of the file', () => {
      const fd = openSync(file, 'r');
      try {
        const memory = memoryWith([[100, 3], [120, 0], [110, 4], [130, 50]]);
        assert.equal(readVectors(fd, memory, 0, 4, 2), 8);
        assert.equal(Buffer.from(memory.subarray(100, 103)).toString(), 'cde');
        assert.equal(Buffer.from(memory.subarray(110, 114)).toString(), 'fghi');
        assert.equal(Buffer.from(memory.subarray(130, 132)).toString('latin1'), 'j\0');
        assert.equal(readVectors(fd, memory, 0, 1, 10), 0, 'at the end: 0');
      } finally {
        closeSync(fd);
      }
    });

    it('writes a gather list at the position', () => {
      const target = join(dir, `written-${native}.bin`);
      writeFileSync(target, '..........');
      const fd = openSync(target, 'r+');
      try {
        const memory = memoryWith([[100, 2], [200, 3]]);
        memory.set(Buffer.from('XY'), 100);
        memory.set(Buffer.from('123'), 200);
        assert.equal(writeVectors(fd, memory, 0, 2, 4), 5);
        assert.equal(readFileSync(target, 'latin1'), '....XY123.');
      } finally {
        closeSync(fd);
      }
    });

    it('moves nothing and makes no system call for a list of zero bytes, even on a closed descriptor', () => {
      const fd = openSync(file, 'r');
      closeSync(fd);
      assert.equal(readVectors(fd, memoryWith([[100, 0]]), 0, 1, 0), 0);
      assert.equal(writeVectors(fd, memoryWith([]), 0, 0, 0), 0);
    });

    it('answers EBADF for a host descriptor closed under it, and for writing one opened read-only', () => {
      const fd = openSync(file, 'r');
      const memory = memoryWith([[100, 4]]);
      assert.equal(errnoOf(() => writeVectors(fd, memory, 0, 1, 0)), 'EBADF');
      closeSync(fd);
      assert.equal(errnoOf(() => readVectors(fd, memory, 0, 1, 0)), 'EBADF');
      assert.deepEqual([...memory.subarray(100, 104)], [0, 0, 0, 0], 'nothing was read');
    });

    it('answers EISDIR for a directory and ESPIPE for a pipe (reads are positional)', () => {
      const directory = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
      try {
        assert.equal(errnoOf(() => readVectors(directory, memoryWith([[100, 4]]), 0, 1, 0)), 'EISDIR');
      } finally {
        closeSync(directory);
      }
      const fifo = join(dir, `fifo-${native}`);
      execFileSync('mkfifo', [fifo]);
      // Read-write and non-blocking: opening neither waits for a writer nor a reader.
      const pipe = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
      try {
        assert.equal(errnoOf(() => readVectors(pipe, memoryWith([[100, 4]]), 0, 1, 0)), 'ESPIPE', 'a pipe has no position');
      } finally {
        closeSync(pipe);
      }
    });
  });
}

// The native module checks the list itself and moves no byte for a hostile one, even if
// the adapter's own checks (imports-fd.ts) were bypassed: these call it directly.
describe('WASI host file I/O, hostile iovec lists reaching the native module', { skip: WAYS[0].skip }, () => {
  before(() => useNativeWasiIo(true));

  const cases: readonly { readonly name: string; readonly memory: () => Uint8Array; readonly iovs: number; readonly count: number; readonly errno: string }[] = [
    { name: 'a buffer past the end of memory', memory: () => memoryWith([[250, 7]]), iovs: 0, count: 1, errno: 'EFAULT' },
    { name: 'a buffer whose offset plus length overflows 32 bits', memory: () => memoryWith([[0xffff_ff00, 0x200]]), iovs: 0, count: 1, errno: 'EFAULT' },
    { name: 'a length of 2^32 - 1', memory: () => memoryWith([[16, 0xffff_ffff]]), iovs: 0, count: 1, errno: 'EFAULT' },
    { name: 'a list running past the end of memory', memory: () => memoryWith([[100, 1]]), iovs: 250, count: 1, errno: 'EFAULT' },
    { name: 'a list whose start plus size overflows 32 bits', memory: () => memoryWith([[100, 1]]), iovs: 0xffff_fff8, count: 2, errno: 'EFAULT' },
    { name: 'a good buffer followed by a bad one', memory: () => memoryWith([[100, 4], [300, 4]]), iovs: 0, count: 2, errno: 'EFAULT' },
    { name: 'more than 1024 iovecs', memory: () => memoryWith([[100, 1]]), iovs: 0, count: 1025, errno: 'EINVAL' },
  ];
  for (const { name, memory: make, iovs, count, errno } of cases) {
    it(`${name}: ${errno}, nothing read or written`, () => {
      const target = join(dir, 'hostile.bin');
      writeFileSync(target, 'abcdefgh');
      const fd = openSync(target, 'r+');
      try {
        const memory = make();
        const before = Buffer.from(memory);
        assert.equal(errnoOf(() => readVectors(fd, memory, iovs, count, 0)), errno);
        assert.deepEqual(Buffer.from(memory), before, 'memory unchanged');
        assert.equal(errnoOf(() => writeVectors(fd, memory, iovs, count, 0)), errno);
        assert.equal(readFileSync(target, 'latin1'), 'abcdefgh', 'file unchanged');
      } finally {
        closeSync(fd);
      }
    });
  }

  it('throws a TypeError for a position that is negative, fractional or beyond 2^53 - 1 (a caller bug, not guest input)', () => {
    const fd = openSync(file, 'r');
    try {
      for (const position of [-1, 0.5, 2 ** 53, Number.NaN]) {
        assert.throws(() => readVectors(fd, memoryWith([[100, 1]]), 0, 1, position), TypeError);
      }
    } finally {
      closeSync(fd);
    }
  });

});

describe('WASI errno of a host errno number (what the native module returns)', () => {
  it('maps each to the preview1 errno of the same name, aliases included, and EIO when preview1 has none', () => {
    const { errno } = os;
    const cases: readonly (readonly [number, string])[] = [
      [errno.EAGAIN, 'EAGAIN'],
      [errno.EWOULDBLOCK, 'EAGAIN'],
      [errno.EISDIR, 'EISDIR'],
      [errno.EBADF, 'EBADF'],
      [errno.EFAULT, 'EFAULT'],
      [errno.EINVAL, 'EINVAL'],
      [errno.ENOSPC, 'ENOSPC'],
      [errno.EOPNOTSUPP, 'ENOTSUP'],
      [errno.EIO, 'EIO'],
      [4095, 'EIO'],
    ];
    for (const [number, name] of cases) assert.equal(errnoOf(() => failHost(number)), name, `host errno ${number}`);
  });
});
