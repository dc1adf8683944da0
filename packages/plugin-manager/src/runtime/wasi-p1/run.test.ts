import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasCode, rejectsWithCode, throwsCode } from '@forgeone/common/testing';
import { WASI_MODULE, WASI_P1_FUNCTIONS } from './abi.js';
import { wasm } from './engine.js';
import { TRAP_EXIT_CODE } from './outcome.js';
import { runWasiCommand } from './run.js';
import { collectOutput } from './stdio.js';
import { assembleWat } from '../../test-support/wat.js';
import { Guest } from './test-support/guest.js';
import { WasiPreview1 } from './wasi.js';

const EXIT = `(import "${WASI_MODULE}" "proc_exit" (func $exit (param i32)))`;

async function module(body: string): Promise<Uint8Array> {
  return assembleWat(`(module ${body})`);
}

describe('runWasiCommand', () => {
  it('reports exit code 0 when _start returns', async () => {
    const result = await runWasiCommand(await module('(memory (export "memory") 1) (func (export "_start"))'));
    assert.deepEqual(result, { exitCode: 0 });
  });

  it('reports the proc_exit code as a result, not an error', async () => {
    const result = await runWasiCommand(await module(`${EXIT} (memory (export "memory") 1) (func (export "_start") (call $exit (i32.const 17)))`));
    assert.deepEqual(result, { exitCode: 17 });
  });

  it('reports a trap as exit code 134 with the trap message and wasm frames', async () => {
    const result = await runWasiCommand(await module('(memory (export "memory") 1) (func $boom (unreachable)) (func (export "_start") (call $boom))'));
    assert.equal(result.exitCode, TRAP_EXIT_CODE);
    assert.equal(result.trap?.message, 'RuntimeError: unreachable');
    assert.ok((result.trap?.frames.length ?? 0) >= 1 && result.trap?.frames.every((frame) => frame.includes('wasm://')), JSON.stringify(result.trap));
  });

  it('reports a stack overflow as a trap', async () => {
    const result = await runWasiCommand(await module('(memory (export "memory") 1) (func $f (call $f)) (func (export "_start") (call $f))'));
    assert.equal(result.exitCode, TRAP_EXIT_CODE);
    assert.match(result.trap?.message ?? '', /RangeError: Maximum call stack size exceeded/);
  });

  it('reports a trap in the module\'s start function as a trap', async () => {
    const result = await runWasiCommand(await module('(memory (export "memory") 1) (func $init (unreachable)) (start $init) (func (export "_start"))'));
    assert.equal(result.exitCode, TRAP_EXIT_CODE);
  });

  it('refuses bytes that are not a module with FO_WASI_MODULE_INVALID', async () => {
    await rejectsWithCode(runWasiCommand(new Uint8Array([0, 97, 115, 109, 9, 9])), 'FO_WASI_MODULE_INVALID');
  });

  it('refuses a module importing what nobody provides with FO_WASI_UNRESOLVED_IMPORT, listing it', async () => {
    const bytes = await module('(import "env" "secret" (func)) (import "wasi_snapshot_preview1" "sock_open" (func)) (memory (export "memory") 1) (func (export "_start"))');
    await assert.rejects(runWasiCommand(bytes), hasCode('FO_WASI_UNRESOLVED_IMPORT', { imports: ['env.secret (function)', 'wasi_snapshot_preview1.sock_open (function)'] }));
  });

  it('links imports the host supplies besides WASI', async () => {
    let called = 0;
    const bytes = await module('(import "env" "ping" (func $ping)) (memory (export "memory") 1) (func (export "_start") (call $ping))');
    const result = await runWasiCommand(bytes, { imports: { env: { ping: () => void (called += 1) } } });
    assert.deepEqual([result.exitCode, called], [0, 1]);
  });

  it('never lets the host\'s imports replace WASI functions (they would skip the gate)', async () => {
    const stdout = collectOutput();
    const g = new Guest();
    g.must(g.call('fd_write', 1, g.iovec(g.bytes(Buffer.from('real')), 4), 1, g.buf(4))).exit(0);
    const fake = { [WASI_MODULE]: { fd_write: () => 0 } };
    await runWasiCommand(await assembleWat(g.wat()), { imports: fake, stdout });
    assert.equal(stdout.text(), 'real');
  });

  it('refuses a module without _start with FO_WASI_NOT_A_COMMAND', async () => {
    await rejectsWithCode(runWasiCommand(await module('(memory (export "memory") 1) (func (export "main"))')), 'FO_WASI_NOT_A_COMMAND');
  });

  it('refuses a module without an exported memory with FO_WASI_NO_MEMORY', async () => {
    await rejectsWithCode(runWasiCommand(await module('(memory 1) (func (export "_start"))')), 'FO_WASI_NO_MEMORY');
  });

  it('refuses a WASI call made before the memory is bound with FO_WASI_NO_MEMORY', async () => {
    const bytes = await module(
      `(import "${WASI_MODULE}" "random_get" (func $random (param i32 i32) (result i32))) (memory (export "memory") 1) (func $init (drop (call $random (i32.const 0) (i32.const 4)))) (start $init) (func (export "_start"))`,
    );
    await rejectsWithCode(runWasiCommand(bytes), 'FO_WASI_NO_MEMORY');
  });

  it('runs the bytes the prepare step returns', async () => {
    const original = await module('(memory (export "memory") 1) (func (export "_start"))');
    const replacement = await module(`${EXIT} (memory (export "memory") 1) (func (export "_start") (call $exit (i32.const 5)))`);
    let seen: Uint8Array | undefined;
    const result = await runWasiCommand(original, {
      prepare: (bytes) => {
        seen = bytes;
        return replacement;
      },
    });
    assert.equal(seen, original);
    assert.equal(result.exitCode, 5);
  });

  it('accepts a compiled module', async () => {
    const compiled = await wasm.compile(await module(`${EXIT} (memory (export "memory") 1) (func (export "_start") (call $exit (i32.const 9)))`));
    assert.equal((await runWasiCommand(compiled)).exitCode, 9);
  });
});

describe('WasiPreview1', () => {
  it('provides exactly the 46 preview1 functions', () => {
    const wasi = new WasiPreview1();
    assert.deepEqual(Object.keys(wasi.imports), [...WASI_P1_FUNCTIONS]);
    assert.equal(WASI_P1_FUNCTIONS.length, 46);
    assert.deepEqual(Object.keys(wasi.importObject), [WASI_MODULE]);
    assert.equal(wasi.openFiles, 3);
    wasi.close();
  });

  it('serves one instance once: a second start is FO_WASI_ALREADY_BOUND', async () => {
    const compiled = await wasm.compile(await module('(memory (export "memory") 1) (func (export "_start"))'));
    const wasi = new WasiPreview1();
    const instance = await wasm.instantiate(compiled, wasi.importObject);
    assert.deepEqual(wasi.start(instance), { exitCode: 0 });
    throwsCode(() => wasi.start(instance), 'FO_WASI_ALREADY_BOUND');
    const other = await wasm.instantiate(compiled, wasi.importObject);
    throwsCode(() => wasi.bind(other), 'FO_WASI_ALREADY_BOUND');
  });

  it('initializes a reactor through _initialize and lets the host call its exports', async () => {
    const g = `(module (import "${WASI_MODULE}" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1) (data (i32.const 16) "\\20\\00\\00\\00\\02\\00\\00\\00") (data (i32.const 32) "ok")
      (global $ready (mut i32) (i32.const 0))
      (func (export "_initialize") (global.set $ready (i32.const 1)))
      (func (export "hello") (result i32) (if (result i32) (global.get $ready) (then (call $write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 8))) (else (i32.const -1)))))`;
    const stdout = collectOutput();
    const wasi = new WasiPreview1({ stdout });
    const instance = await wasm.instantiate(await wasm.compile(await assembleWat(g)), wasi.importObject);
    assert.equal(wasi.initialize(instance), undefined);
    assert.equal((instance.exports['hello'] as () => number)(), 0);
    assert.equal(stdout.text(), 'ok');
  });
});
