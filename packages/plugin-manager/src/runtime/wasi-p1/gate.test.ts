import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ForgeError, type HostCallAccess, type HostCallGate } from '@forgeone/common';
import { CLOCKID, ERRNO, EVENTTYPE, WASI_MODULE, WASI_P1_FUNCTIONS, type WasiFunctionName } from './abi.js';
import { Guest, runGuest } from './test-support/guest.js';
import { OFLAGS, RIGHTS, preopened, rights } from './test-support/setup.js';

interface Check {
  readonly call: string;
  readonly resource: string | undefined;
  readonly access: HostCallAccess | undefined;
}

function recordingGate(deny = false): HostCallGate & { readonly checks: Check[] } {
  const checks: Check[] = [];
  return {
    checks,
    check(call, resource, access) {
      checks.push({ call, resource, access });
      return deny ? { reason: 'denied by test' } : undefined;
    },
    refuse: () => undefined,
  };
}

/**
 * One call of every function except proc_exit, with arguments that would succeed and
 * change something (preopen /data at fd 3 holding a.txt and dir/), each result stored
 * in memory in witx order, then proc_exit(0) (or a plain return).
 */
function everyCall(end: 'exit' | 'return' = 'exit'): { guest: Guest; results: number; calls: { name: WasiFunctionName; resource: string | undefined; extra?: string }[] } {
  const g = new Guest();
  const buf = g.buf(256);
  const iov = g.iovec(buf, 4);
  const sub = Buffer.alloc(48);
  sub.writeUInt8(EVENTTYPE.CLOCK, 8);
  sub.writeUInt32LE(CLOCKID.MONOTONIC, 16);
  const subscription = g.bytes(sub);
  const open = g.call('path_open', 3, 0, g.str('created.txt'), OFLAGS.CREAT, rights(RIGHTS.FD_WRITE), 0n, 0, buf);
  const calls: { name: WasiFunctionName; resource: string | undefined; expr: string; extra?: string }[] = [
    { name: 'args_get', resource: undefined, expr: g.call('args_get', buf, buf + 16) },
    { name: 'args_sizes_get', resource: undefined, expr: g.call('args_sizes_get', buf, buf + 4) },
    { name: 'environ_get', resource: undefined, expr: g.call('environ_get', buf, buf + 16) },
    { name: 'environ_sizes_get', resource: undefined, expr: g.call('environ_sizes_get', buf, buf + 4) },
    { name: 'clock_res_get', resource: undefined, expr: g.call('clock_res_get', 0, buf) },
    { name: 'clock_time_get', resource: undefined, expr: g.call('clock_time_get', 0, 0n, buf) },
    { name: 'fd_advise', resource: 'fd:3', expr: g.call('fd_advise', 3, 0n, 0n, 0) },
    { name: 'fd_allocate', resource: 'fd:3', expr: g.call('fd_allocate', 3, 0n, 1n) },
    { name: 'fd_close', resource: 'fd:9', expr: g.call('fd_close', 9) },
    { name: 'fd_datasync', resource: 'fd:3', expr: g.call('fd_datasync', 3) },
    { name: 'fd_fdstat_get', resource: 'fd:3', expr: g.call('fd_fdstat_get', 3, buf) },
    { name: 'fd_fdstat_set_flags', resource: 'fd:1', expr: g.call('fd_fdstat_set_flags', 1, 0) },
    { name: 'fd_fdstat_set_rights', resource: 'fd:1', expr: g.call('fd_fdstat_set_rights', 1, 0n, 0n) },
    { name: 'fd_filestat_get', resource: 'fd:3', expr: g.call('fd_filestat_get', 3, buf) },
    { name: 'fd_filestat_set_size', resource: 'fd:3', expr: g.call('fd_filestat_set_size', 3, 0n) },
    // Setting times is a write, decided on the file's guest path (fd 3 is the preopen /data).
    { name: 'fd_filestat_set_times', resource: '/data', expr: g.call('fd_filestat_set_times', 3, 0n, 0n, 2) },
    { name: 'fd_pread', resource: 'fd:0', expr: g.call('fd_pread', 0, iov, 1, 0n, buf) },
    { name: 'fd_prestat_get', resource: 'fd:3', expr: g.call('fd_prestat_get', 3, buf) },
    { name: 'fd_prestat_dir_name', resource: 'fd:3', expr: g.call('fd_prestat_dir_name', 3, buf, 16) },
    { name: 'fd_pwrite', resource: 'fd:1', expr: g.call('fd_pwrite', 1, iov, 1, 0n, buf) },
    { name: 'fd_read', resource: 'fd:0', expr: g.call('fd_read', 0, iov, 1, buf) },
    { name: 'fd_readdir', resource: 'fd:3', expr: g.call('fd_readdir', 3, buf, 64, 0n, buf + 128) },
    { name: 'fd_renumber', resource: 'fd:2', expr: g.call('fd_renumber', 2, 1) },
    { name: 'fd_seek', resource: 'fd:3', expr: g.call('fd_seek', 3, 0n, 0, buf) },
    { name: 'fd_sync', resource: 'fd:3', expr: g.call('fd_sync', 3) },
    { name: 'fd_tell', resource: 'fd:3', expr: g.call('fd_tell', 3, buf) },
    { name: 'fd_write', resource: 'fd:1', expr: g.call('fd_write', 1, iov, 1, buf) },
    { name: 'path_create_directory', resource: '/data/made', expr: g.call('path_create_directory', 3, g.str('made')) },
    { name: 'path_filestat_get', resource: '/data/a.txt', expr: g.call('path_filestat_get', 3, 0, g.str('a.txt'), buf) },
    { name: 'path_filestat_set_times', resource: '/data/a.txt', expr: g.call('path_filestat_set_times', 3, 0, g.str('a.txt'), 0n, 0n, 10) },
    { name: 'path_link', resource: '/data/a.txt', extra: '/data/linked', expr: g.call('path_link', 3, 0, g.str('a.txt'), 3, g.str('linked')) },
    { name: 'path_open', resource: '/data/created.txt', expr: open },
    { name: 'path_readlink', resource: '/data/link', expr: g.call('path_readlink', 3, g.str('link'), buf, 16, buf + 32) },
    { name: 'path_remove_directory', resource: '/data/dir', expr: g.call('path_remove_directory', 3, g.str('sub/../dir')) },
    { name: 'path_rename', resource: '/data/a.txt', extra: '/data/renamed', expr: g.call('path_rename', 3, g.str('a.txt'), 3, g.str('renamed')) },
    { name: 'path_symlink', resource: '/data/new-link', expr: g.call('path_symlink', g.str('a.txt'), 3, g.str('new-link')) },
    { name: 'path_unlink_file', resource: '/data/a.txt', expr: g.call('path_unlink_file', 3, g.str('a.txt')) },
    { name: 'poll_oneoff', resource: undefined, expr: g.call('poll_oneoff', subscription, buf, 1, buf + 64) },
    { name: 'proc_raise', resource: undefined, expr: g.call('proc_raise', 0) },
    { name: 'sched_yield', resource: undefined, expr: g.call('sched_yield') },
    { name: 'random_get', resource: undefined, expr: g.call('random_get', buf + 200, 16) },
    { name: 'sock_accept', resource: 'fd:1', expr: g.call('sock_accept', 1, 0, buf) },
    { name: 'sock_recv', resource: 'fd:1', expr: g.call('sock_recv', 1, iov, 1, 0, buf, buf + 4) },
    { name: 'sock_send', resource: 'fd:1', expr: g.call('sock_send', 1, iov, 1, 0, buf) },
    { name: 'sock_shutdown', resource: 'fd:1', expr: g.call('sock_shutdown', 1, 3) },
  ];
  const results = g.buf(calls.length * 4);
  calls.forEach((call, index) => g.do(`(i32.store (i32.const ${results + index * 4}) ${call.expr})`));
  if (end === 'exit') g.exit(0);
  return { guest: g, results, calls };
}

describe('WASI host-call gate', () => {
  it('sees every one of the 46 functions once before it acts, with its resource (two-path calls once per path)', async () => {
    const { s, options } = await preopened({ 'a.txt': 'x', 'dir/f': 'y', 'sub/g': 'z' });
    const gate = recordingGate();
    const { guest, calls } = everyCall();
    await runGuest(guest, { ...options, preopens: [{ host: s.root, guest: '/data' }], gate });
    const expected: Check[] = [];
    for (const call of calls) {
      const access = call.name === 'path_open' || call.name === 'fd_filestat_set_times' ? 'write' : undefined;
      expected.push({ call: `${WASI_MODULE}.${call.name}`, resource: call.resource, access });
      if (call.extra !== undefined) expected.push({ call: `${WASI_MODULE}.${call.name}`, resource: call.extra, access: undefined });
    }
    expected.push({ call: `${WASI_MODULE}.proc_exit`, resource: undefined, access: undefined });
    assert.deepEqual(gate.checks, expected);
    const seen = new Set(gate.checks.map((check) => check.call));
    assert.deepEqual([...seen].sort(), WASI_P1_FUNCTIONS.map((name) => `${WASI_MODULE}.${name}`).sort());
  });

  it('refuses every function with EACCES when the gate denies, and nothing happens', async () => {
    const { s, options } = await preopened({ 'a.txt': 'x', 'dir/f': 'y', 'sub/g': 'z' });
    const before = await s.snapshot();
    const gate = recordingGate(true);
    // proc_exit is refused too, so the program ends by returning instead.
    const { guest, results, calls } = everyCall('return');
    const run = await runGuest(guest, { ...options, preopens: [{ host: s.root, guest: '/data' }], gate, args: ['prog'], env: { A: 'b' } });
    assert.equal(run.exitCode, 0);
    const errnos = calls.map((_, index) => run.u32(results + index * 4));
    assert.deepEqual(errnos, calls.map(() => ERRNO.EACCES));
    assert.deepEqual(await s.snapshot(), before);
    assert.equal(run.stdout, '');
    assert.ok(run.memory.subarray(1024, 1024 + 256).every((byte) => byte === 0), 'no call wrote to guest memory');
  });

  it('stops the guest with FO_WASI_CALL_DENIED when proc_exit is refused', async () => {
    const g = new Guest();
    g.exit(3);
    await assert.rejects(runGuest(g, { gate: recordingGate(true) }), (error: unknown) => ForgeError.is(error, 'FO_WASI_CALL_DENIED'));
  });

  it('tells the gate whether path_open reads or writes', async () => {
    const { options } = await preopened({ 'a.txt': 'x' });
    const gate = recordingGate();
    const g = new Guest();
    for (const [oflags, base] of [
      [0, rights(RIGHTS.FD_READ)],
      [OFLAGS.CREAT, 0n],
      [OFLAGS.TRUNC, 0n],
      [0, rights(RIGHTS.FD_READ, RIGHTS.FD_WRITE)],
    ] as const) {
      g.do(`(drop ${g.call('path_open', 3, 0, g.str('a.txt'), oflags, base, 0n, 0, g.buf(4))})`);
    }
    g.exit(0);
    await runGuest(g, { ...options, gate });
    assert.deepEqual(
      gate.checks.filter((check) => check.call.endsWith('path_open')).map((check) => check.access),
      ['read', 'write', 'write', 'write'],
    );
  });

  it('names paths for policy as normalised guest paths under the descriptor\'s guest path; absolute paths fail before policy', async () => {
    const { s } = await preopened({ 'sub/f': 'x' });
    const gate = recordingGate();
    const g = new Guest();
    g.do(`(drop ${g.call('path_filestat_get', 3, 0, g.str('sub/./../sub//f'), g.buf(64))})`);
    g.do(`(drop ${g.call('path_filestat_get', 3, 0, g.str('/etc/passwd'), g.buf(64))})`).exit(0);
    await runGuest(g, { preopens: [{ host: s.root, guest: '/data' }], gate });
    assert.deepEqual(
      gate.checks.filter((check) => check.call.endsWith('path_filestat_get')).map((check) => check.resource),
      ['/data/sub/f'],
    );
  });
});
