// Runs guests through the conformance adapter, i.e. through the real `forge wasi run`
// process with piped stdio: the path users take from a shell, which in-process CLI
// tests cannot reach (host descriptors as stdin/stdout/stderr).
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import wabtInit from 'wabt';
import { forgeArgv, run } from './wasi-conformance-adapter.mjs';

const W = 'wasi_snapshot_preview1';

async function guest(body) {
  const wabt = await wabtInit();
  const wat = `(module
    (import "${W}" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
    (import "${W}" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
    (import "${W}" "fd_fdstat_get" (func $fdstat (param i32 i32) (result i32)))
    (import "${W}" "proc_exit" (func $exit (param i32)))
    (memory (export "memory") 1)
    (func (export "_start") ${body}))`;
  const parsed = wabt.parseWat('guest.wat', wat);
  const dir = await mkdtemp(join(tmpdir(), 'forge-wasi-adapter-'));
  const file = join(dir, 'guest.wasm');
  await writeFile(file, parsed.toBinary({}).buffer);
  parsed.destroy();
  return { dir, file };
}

describe('the WASI conformance adapter (forge wasi run as a process)', () => {
  it('builds the forge command line from a test spec, keeping values that start with "-"', () => {
    assert.deepEqual(forgeArgv('/t/x.wasm', { args: ['-a'], env: { K: '-v' }, dirs: [{ host: '/h', guest: '/' }] }), [
      'wasi',
      'run',
      '--dir=/h::/',
      '--env=K=-v',
      '/t/x.wasm',
      '--',
      '-a',
    ]);
  });

  it('feeds stdin from a pipe and passes stdout, stderr and the exit code through', async () => {
    // Read stdin into 1024.., echo it to stdout and to stderr, exit 3.
    const { dir, file } = await guest(`
      (i32.store (i32.const 0) (i32.const 1024)) (i32.store (i32.const 4) (i32.const 64))
      (drop (call $read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
      (i32.store (i32.const 4) (i32.load (i32.const 8)))
      (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 12)))
      (drop (call $write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 12)))
      (call $exit (i32.const 3))`);
    const result = await run(file, { cwd: dir, stdin: 'piped in' });
    assert.equal(result.exitCode, 3);
    assert.equal(Buffer.from(result.stdout).toString(), 'piped in');
    assert.equal(Buffer.from(result.stderr).toString(), 'piped in');
  });

  it('reports a pipe as stdout\'s filetype unknown (not a terminal)', async () => {
    const { dir, file } = await guest('(drop (call $fdstat (i32.const 1) (i32.const 64))) (call $exit (i32.load8_u (i32.const 64)))');
    assert.equal((await run(file, { cwd: dir })).exitCode, 0);
  });

  it('reports a trap as exit code 134 with the trap message', async () => {
    const { dir, file } = await guest('(unreachable)');
    const result = await run(file, { cwd: dir });
    assert.equal(result.exitCode, 134);
    assert.equal(result.trap, 'RuntimeError: unreachable');
  });
});
