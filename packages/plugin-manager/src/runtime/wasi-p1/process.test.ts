import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CLOCKID, ERRNO, EVENTRWFLAGS_HANGUP, EVENTTYPE, RIGHTS } from './abi.js';
import { bytesInput } from './stdio.js';
import { Guest, runGuest, scratch } from './test-support/guest.js';

/** A subscription record (48 bytes). */
function subscription(userdata: bigint, type: number, fields: { fd?: number; clock?: number; timeout?: bigint; absolute?: boolean }): Buffer {
  const record = Buffer.alloc(48);
  record.writeBigUInt64LE(userdata, 0);
  record.writeUInt8(type, 8);
  if (type === EVENTTYPE.CLOCK) {
    record.writeUInt32LE(fields.clock ?? CLOCKID.MONOTONIC, 16);
    record.writeBigUInt64LE(fields.timeout ?? 0n, 24);
    record.writeUInt16LE(fields.absolute === true ? 1 : 0, 40);
  } else record.writeUInt32LE(fields.fd ?? 0, 16);
  return record;
}

describe('WASI args and environment', () => {
  it('args_sizes_get counts argv[0] and every argument with their NULs', async () => {
    const g = new Guest();
    const out = g.buf(8);
    g.must(g.call('args_sizes_get', out, out + 4)).exit(0);
    const run = await runGuest(g, { args: ['prog', 'a', 'héllo'] });
    assert.equal(run.u32(out), 3);
    assert.equal(run.u32(out + 4), Buffer.byteLength('prog\0a\0héllo\0'));
  });

  it('args_get writes pointers to NUL-terminated arguments', async () => {
    const g = new Guest();
    const pointers = g.buf(8);
    const buffer = g.buf(16);
    g.must(g.call('args_get', pointers, buffer)).exit(0);
    const run = await runGuest(g, { args: ['x', 'yz'] });
    assert.equal(run.u32(pointers), buffer);
    assert.equal(run.u32(pointers + 4), buffer + 2);
    assert.equal(run.memory.subarray(buffer, buffer + 5).toString('latin1'), 'x\0yz\0');
  });

  it('environ_sizes_get and environ_get give exactly the configured variables, never the host\'s', async () => {
    process.env['FORGE_WASI_TEST_LEAK'] = 'leaked';
    const g = new Guest();
    const sizes = g.buf(8);
    const pointers = g.buf(16);
    const buffer = g.buf(64);
    g.must(g.call('environ_sizes_get', sizes, sizes + 4));
    g.must(g.call('environ_get', pointers, buffer)).exit(0);
    const run = await runGuest(g, { env: { A: '1', B: 'x=y' } });
    delete process.env['FORGE_WASI_TEST_LEAK'];
    assert.equal(run.u32(sizes), 2);
    assert.equal(run.u32(sizes + 4), 'A=1\0B=x=y\0'.length);
    assert.equal(run.memory.subarray(buffer, buffer + 10).toString('latin1'), 'A=1\0B=x=y\0');
    assert.ok(!run.memory.includes('leaked'));
  });

  it('args_get fails with EFAULT when the buffer runs past memory', async () => {
    const g = new Guest();
    g.exit(g.call('args_get', g.buf(8), 65_535));
    assert.equal((await runGuest(g, { args: ['long-argument'] })).exitCode, ERRNO.EFAULT);
  });
});

describe('WASI clocks and random', () => {
  it('clock_time_get reads the realtime clock in nanoseconds since the epoch', async () => {
    const g = new Guest();
    const out = g.buf(8);
    g.must(g.call('clock_time_get', CLOCKID.REALTIME, 1n, out)).exit(0);
    const before = BigInt(Date.now()) * 1_000_000n;
    const run = await runGuest(g);
    const after = BigInt(Date.now()) * 1_000_000n;
    assert.ok(run.u64(out) >= before - 10_000_000n && run.u64(out) <= after + 10_000_000n, String(run.u64(out)));
  });

  it('clock_time_get never goes backwards on the monotonic clock', async () => {
    const g = new Guest();
    const out = g.buf(16);
    g.must(g.call('clock_time_get', CLOCKID.MONOTONIC, 0n, out)).must(g.call('clock_time_get', CLOCKID.MONOTONIC, 0n, out + 8)).exit(0);
    const run = await runGuest(g);
    assert.ok(run.u64(out) > 0n && run.u64(out + 8) >= run.u64(out));
  });

  it('clock_time_get refuses the CPU-time clocks with EINVAL', async () => {
    for (const clock of [CLOCKID.PROCESS_CPUTIME_ID, CLOCKID.THREAD_CPUTIME_ID, 9]) {
      const g = new Guest();
      g.exit(g.call('clock_time_get', clock, 0n, g.buf(8)));
      assert.equal((await runGuest(g)).exitCode, ERRNO.EINVAL, `clock ${clock}`);
    }
  });

  it('clock_res_get reports a non-zero resolution for realtime and monotonic', async () => {
    const g = new Guest();
    const out = g.buf(16);
    g.must(g.call('clock_res_get', CLOCKID.REALTIME, out)).must(g.call('clock_res_get', CLOCKID.MONOTONIC, out + 8)).exit(g.call('clock_res_get', CLOCKID.PROCESS_CPUTIME_ID, out));
    const run = await runGuest(g);
    assert.equal(run.exitCode, ERRNO.EINVAL);
    assert.equal(run.u64(out + 8), 1n);
    assert.ok(run.u64(out) > 0n);
  });

  it('random_get fills the buffer with random bytes', async () => {
    const g = new Guest();
    const out = g.buf(1024);
    g.must(g.call('random_get', out, 1024)).exit(0);
    const run = await runGuest(g);
    const bytes = run.memory.subarray(out, out + 1024);
    assert.ok(new Set(bytes).size > 100, 'expected varied bytes');
  });

  it('random_get fails with EFAULT outside memory and writes nothing', async () => {
    const g = new Guest();
    g.exit(g.call('random_get', 65_000, 1000));
    assert.equal((await runGuest(g)).exitCode, ERRNO.EFAULT);
  });
});

describe('WASI process calls', () => {
  it('proc_exit ends the guest with its code', async () => {
    const g = new Guest();
    g.exit(42).exit(7);
    assert.equal((await runGuest(g)).exitCode, 42);
  });

  it('proc_raise refuses every signal with ENOSYS, and out-of-range ones with EINVAL', async () => {
    const g = new Guest();
    g.must(`(i32.sub ${g.call('proc_raise', 6)} (i32.const ${ERRNO.ENOSYS}))`).exit(g.call('proc_raise', 31));
    assert.equal((await runGuest(g)).exitCode, ERRNO.EINVAL);
  });

  it('sched_yield succeeds', async () => {
    const g = new Guest();
    g.exit(g.call('sched_yield'));
    assert.equal((await runGuest(g)).exitCode, 0);
  });
});

describe('WASI sockets', () => {
  for (const call of ['sock_accept', 'sock_recv', 'sock_send', 'sock_shutdown'] as const) {
    const args = { sock_accept: [0, 64], sock_recv: [64, 1, 0, 72, 76], sock_send: [64, 1, 0, 72], sock_shutdown: [1] }[call];
    it(`${call} answers EBADF for a closed descriptor and ENOTSOCK for stdout and files`, async () => {
      const s = await scratch();
      await writeFile(join(s.root, 'f'), 'x');
      const bad = new Guest();
      bad.exit(bad.call(call, 99, ...args));
      assert.equal((await runGuest(bad)).exitCode, ERRNO.EBADF);
      const stdout = new Guest();
      stdout.exit(stdout.call(call, 1, ...args));
      assert.equal((await runGuest(stdout)).exitCode, ERRNO.ENOTSOCK);
      const file = new Guest();
      const fd = file.buf(4);
      file.must(file.call('path_open', 3, 0, file.str('f'), 0, BigInt(RIGHTS.FD_READ), 0n, 0, fd)).exit(file.call(call, file.load(fd), ...args));
      assert.equal((await runGuest(file, { preopens: [{ host: s.root, guest: '/' }] })).exitCode, ERRNO.ENOTSOCK);
    });
  }
});

describe('WASI poll_oneoff', () => {
  it('reports stdin readable with the bytes left, and stdout and stderr writable, without waiting', async () => {
    const g = new Guest();
    const subs = g.bytes(
      Buffer.concat([
        subscription(1n, EVENTTYPE.FD_READ, { fd: 0 }),
        subscription(2n, EVENTTYPE.FD_WRITE, { fd: 1 }),
        subscription(3n, EVENTTYPE.FD_WRITE, { fd: 2 }),
        subscription(4n, EVENTTYPE.CLOCK, { timeout: 3_600_000_000_000n }),
      ]),
    );
    const events = g.buf(4 * 32);
    const count = g.buf(4);
    g.must(g.call('poll_oneoff', subs, events, 4, count)).exit(0);
    const run = await runGuest(g, { stdin: bytesInput('hello') });
    assert.equal(run.u32(count), 3);
    const event = (index: number) => ({
      userdata: run.u64(events + index * 32),
      error: run.memory.readUInt16LE(events + index * 32 + 8),
      type: run.memory.readUInt8(events + index * 32 + 10),
      nbytes: run.u64(events + index * 32 + 16),
    });
    assert.deepEqual(event(0), { userdata: 1n, error: 0, type: EVENTTYPE.FD_READ, nbytes: 5n });
    assert.deepEqual([event(1).userdata, event(1).type, event(2).userdata, event(2).type], [2n, EVENTTYPE.FD_WRITE, 3n, EVENTTYPE.FD_WRITE]);
  });

  it('flags an empty stdin as hung up', async () => {
    const g = new Guest();
    const subs = g.bytes(subscription(1n, EVENTTYPE.FD_READ, { fd: 0 }));
    const events = g.buf(32);
    g.must(g.call('poll_oneoff', subs, events, 1, g.buf(4))).exit(0);
    const run = await runGuest(g);
    assert.equal(run.memory.readUInt16LE(events + 24), EVENTRWFLAGS_HANGUP);
  });

  it('waits for a relative clock subscription and reports it', async () => {
    const g = new Guest();
    const subs = g.bytes(subscription(7n, EVENTTYPE.CLOCK, { timeout: 1_000_000n }));
    const events = g.buf(32);
    const count = g.buf(4);
    g.must(g.call('poll_oneoff', subs, events, 1, count)).exit(0);
    const run = await runGuest(g);
    assert.equal(run.u32(count), 1);
    assert.equal(run.u64(events), 7n);
    assert.equal(run.memory.readUInt8(events + 10), EVENTTYPE.CLOCK);
  });

  it('reports an absolute realtime deadline in the past at once', async () => {
    const g = new Guest();
    const subs = g.bytes(subscription(9n, EVENTTYPE.CLOCK, { clock: CLOCKID.REALTIME, timeout: 1n, absolute: true }));
    const events = g.buf(32);
    const count = g.buf(4);
    g.must(g.call('poll_oneoff', subs, events, 1, count)).exit(0);
    const run = await runGuest(g);
    assert.equal(run.u32(count), 1);
    assert.equal(run.memory.readUInt16LE(events + 8), 0);
  });

  it('reports EBADF for a closed descriptor and EINVAL for an unsupported clock in the event', async () => {
    const g = new Guest();
    const subs = g.bytes(Buffer.concat([subscription(1n, EVENTTYPE.FD_READ, { fd: 77 }), subscription(2n, EVENTTYPE.CLOCK, { clock: CLOCKID.PROCESS_CPUTIME_ID, timeout: 5n })]));
    const events = g.buf(64);
    const count = g.buf(4);
    g.must(g.call('poll_oneoff', subs, events, 2, count)).exit(0);
    const run = await runGuest(g);
    assert.equal(run.u32(count), 2);
    assert.equal(run.memory.readUInt16LE(events + 8), ERRNO.EBADF);
    assert.equal(run.memory.readUInt16LE(events + 32 + 8), ERRNO.EINVAL);
  });

  it('refuses zero subscriptions with EINVAL', async () => {
    const g = new Guest();
    g.exit(g.call('poll_oneoff', g.buf(48), g.buf(32), 0, g.buf(4)));
    assert.equal((await runGuest(g)).exitCode, ERRNO.EINVAL);
  });
});
