// The freezer's files kept open and its wait (cgroup-freezer.ts), against an in-memory
// kernel: the real freezer is exercised by cgroups.test.ts and process/freezer.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ForgeError } from '@forgeone/common';
import { forgeErrorOf } from '@forgeone/common/testing';
import type { CgroupFile, CgroupFs } from './cgroup-fs.js';
import { FreezerFiles, waitForFreezer } from './cgroup-freezer.js';

/** A v1 freezer.state that reads FREEZING for `lag` reads after FROZEN is written; counts opens and accesses by path. */
function fakeFreezer(lag: number) {
  let state = 'THAWED';
  let pending: string | undefined;
  let reads = 0;
  const counts = { opens: 0, closes: 0, pathReads: 0, pathWrites: 0 };
  const write = (text: string): void => {
    if (text === 'FROZEN') [pending, reads] = [text, 0];
    else [state, pending] = [text, undefined]; // a thaw takes effect at once
  };
  const read = (): string => {
    if (pending !== undefined) {
      reads += 1;
      if (reads <= lag) return 'FREEZING\n';
      [state, pending] = [pending, undefined];
    }
    return `${state}\n`;
  };
  const fs: CgroupFs = {
    mkdir: () => Promise.resolve(),
    rmdir: () => Promise.resolve(),
    subdirs: () => Promise.resolve([]),
    read: () => {
      counts.pathReads += 1;
      return Promise.resolve(read());
    },
    write: (_path, text) => {
      counts.pathWrites += 1;
      write(text);
      return Promise.resolve();
    },
    open: (): CgroupFile => {
      counts.opens += 1;
      return { read, write, close: () => void (counts.closes += 1) };
    },
  };
  return { fs, counts, state: () => state };
}

describe('cgroup freezer files and wait', () => {
  it('opens freezer.state once, on the first freeze, and waits through FREEZING until FROZEN; after close it goes by path', async () => {
    const { fs, counts, state } = fakeFreezer(5);
    const freezer = new FreezerFiles(fs, '/cg/freezer.state', '/cg/freezer.state');
    const frozen = (text: string): boolean => text.trim() === 'FROZEN';
    const thawed = (text: string): boolean => text.trim() === 'THAWED';
    await freezer.set('FROZEN', frozen, 'freeze the cgroup');
    assert.equal(state(), 'FROZEN', 'resolved only once the state read FROZEN');
    await freezer.set('THAWED', thawed, 'thaw the cgroup');
    await freezer.set('FROZEN', frozen, 'freeze the cgroup');
    assert.deepEqual(counts, { opens: 1, closes: 0, pathReads: 0, pathWrites: 0 }, 'one descriptor for every write and read');
    freezer.close();
    await freezer.set('THAWED', thawed, 'thaw the cgroup');
    assert.deepEqual(counts, { opens: 1, closes: 1, pathReads: 1, pathWrites: 1 });
  });

  it('says FO_SANDBOX_UNAVAILABLE with the errno when the file cannot be opened, and when the state is not reached in time', async () => {
    const { fs } = fakeFreezer(0);
    const missing = Object.assign(new Error('ENOENT: no such file or directory'), { code: 'ENOENT' });
    const broken: CgroupFs = {
      ...fs,
      open: () => {
        throw missing;
      },
    };
    const error = await forgeErrorOf(new FreezerFiles(broken, '/cg/freezer.state', '/cg/freezer.state').set('FROZEN', () => true, 'freeze the cgroup'));
    assert.ok(error instanceof ForgeError);
    assert.equal(error.code, 'FO_SANDBOX_UNAVAILABLE');
    assert.equal(error.details['errno'], 'ENOENT');
    assert.equal(error.details['path'], '/cg/freezer.state');

    let reads = 0;
    const late = await forgeErrorOf(
      waitForFreezer(
        () => {
          reads += 1;
          return Promise.resolve(false);
        },
        'freeze the cgroup',
        '/cg/freezer.state',
        30,
      ),
    );
    assert.equal(late?.code, 'FO_SANDBOX_UNAVAILABLE');
    assert.match(late?.message ?? '', /did not change within/);
    assert.ok(reads > 3, `read again while waiting (${reads} reads)`);
  });

  it('never reads through a descriptor closed while a freeze waits (the group removed meanwhile): the wait goes on by path', async () => {
    const { fs, counts } = fakeFreezer(1_000_000);
    let closed = false;
    let readsAfterClose = 0;
    const watched: CgroupFs = {
      ...fs,
      open: (path, access): CgroupFile => {
        const file = (fs.open as NonNullable<CgroupFs['open']>)(path, access);
        return {
          read: () => {
            if (closed) readsAfterClose += 1;
            return file.read();
          },
          write: (text) => file.write(text),
          close: () => {
            closed = true;
            file.close();
          },
        };
      },
    };
    const freezer = new FreezerFiles(watched, '/cg/freezer.state', '/cg/freezer.state');
    let reached = false;
    const waiting = freezer.set('FROZEN', (text) => reached || text.trim() === 'FROZEN', 'freeze the cgroup');
    for (let turn = 0; turn < 5; turn += 1) await new Promise((resolve) => setImmediate(resolve));
    freezer.close();
    const pathReads = counts.pathReads;
    reached = true;
    await waiting;
    assert.equal(readsAfterClose, 0, 'no read through the closed descriptor');
    assert.equal(counts.pathReads, pathReads + 1, 'the next read went by path');
  });
});
