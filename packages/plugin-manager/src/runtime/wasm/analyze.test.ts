import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasCode } from '@forgeone/common/testing';
import { analyzeModule } from './analyze.js';
import { checkImports } from './imports.js';
import { name, section } from './test-support/binary.js';
import { wat } from './test-support/wat.js';

const SOURCE = `(module $demo
  (type $t (func (param i32 i64) (result f32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (import "env" "mem" (memory 1 4 shared))
  (import "env" "tab" (table 2 externref))
  (import "env" "g" (global (mut i64)))
  (table 1 10 funcref)
  (global (export "answer") i32 (i32.const 42))
  (func $f (export "f") (type $t) (local i32 i32 i64) (f32.const 1))
  (func $s (local v128) (drop (i32.atomic.load (i32.const 0))))
  (start $s))`;

/** Appends a custom section to a module. */
function withCustom(bytes: Uint8Array, sectionName: string, contents: number[]): Uint8Array {
  return Uint8Array.from([...bytes, ...section(0, [...name(sectionName), ...contents])]);
}

describe('analyzeModule', () => {
  it('describes imports, exports, memories, tables, globals, the start function and custom sections', async () => {
    const bytes = withCustom(await wat(SOURCE, { names: true }), 'meta', [1, 2, 3]);
    const info = analyzeModule(bytes);
    assert.equal(info.size, bytes.length);
    assert.deepEqual(info.imports, [
      { module: 'wasi_snapshot_preview1', name: 'fd_write', kind: 'function', signature: { params: ['i32', 'i32', 'i32', 'i32'], results: ['i32'] } },
      { module: 'env', name: 'mem', kind: 'memory', memory: { imported: true, minPages: 1, maxPages: 4, shared: true, memory64: false } },
      { module: 'env', name: 'tab', kind: 'table', table: { imported: true, elementType: 'externref', min: 2, table64: false } },
      { module: 'env', name: 'g', kind: 'global', global: { imported: true, type: 'i64', mutable: true } },
    ]);
    assert.deepEqual(info.exports, [
      { name: 'answer', kind: 'global', index: 1 },
      { name: 'f', kind: 'function', index: 1, signature: { params: ['i32', 'i64'], results: ['f32'] } },
    ]);
    assert.deepEqual(info.memories, [{ imported: true, minPages: 1, maxPages: 4, shared: true, memory64: false }]);
    assert.deepEqual(info.tables, [
      { imported: true, elementType: 'externref', min: 2, table64: false },
      { imported: false, elementType: 'funcref', min: 1, max: 10, table64: false },
    ]);
    assert.deepEqual(info.globals, [
      { imported: true, type: 'i64', mutable: true },
      { imported: false, type: 'i32', mutable: false },
    ]);
    assert.equal(info.startFunction, 2);
    assert.deepEqual(info.customSections.map((c) => c.name), ['name', 'meta']);
    assert.equal(info.customSections[1]?.size, 3);
    assert.equal(info.functionCount, 2);
    assert.equal(info.importedFunctionCount, 1);
    assert.equal(info.mostLocals, 3);
    assert.ok(info.largestBodyBytes >= 8);
    assert.deepEqual(info.features, ['reference-types', 'simd', 'threads']);
    assert.equal(info.moduleName, 'demo');
    assert.equal(info.functionNames.get(1), 'f');
    assert.equal(info.functionNames.get(2), 's');
  });

  it('reports the proposals a module uses', async () => {
    const info = analyzeModule(
      await wat(`(module (memory 1) (func $a (param i32) (result i32 i32) (return_call $b (local.get 0)))
        (func $b (param i32) (result i32 i32) (i32.extend8_s (local.get 0)) (i32.trunc_sat_f32_s (f32.const 1)))
        (func (memory.fill (i32.const 0) (i32.const 0) (i32.const 0))))`),
    );
    assert.deepEqual(info.features, ['sign-extension', 'saturating-float-to-int', 'bulk-memory', 'multi-value', 'tail-calls']);
  });

  it('ignores a malformed name section, as the engine does', async () => {
    const info = analyzeModule(withCustom(await wat('(module (func))'), 'name', [0x01, 0x09, 0x01]));
    assert.equal(info.functionNames.size, 0);
    assert.equal(info.moduleName, undefined);
  });

  it('measures the largest body and the most locals', async () => {
    const info = analyzeModule(await wat('(module (func (local i32 i32 i32 i32)) (func (param i64) (local f32) nop nop nop nop nop nop))'));
    assert.equal(info.mostLocals, 4);
    assert.equal(info.largestBodyBytes, 1 + 2 + 6 + 1); // local groups, one group, six nops, end
  });
});

describe('checkImports', () => {
  const IMPORTS = `(module
    (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "sock_accept" (func (param i32 i32 i32) (result i32)))
    (import "forge" "log" (func (param i32 i32) (result i64)))
    (import "env" "memory" (memory 1))
    (import "env" "\\1b[31mevil" (func)))`;
  const granted = (module: string, importName: string) => (module === 'wasi_snapshot_preview1' && importName === 'fd_write') || (module === 'forge' && importName === 'log') || module === 'env';

  it('accepts a module whose every import is granted', async () => {
    const info = analyzeModule(await wat(`(module (import "forge" "log" (func (param i32 i32) (result i64))))`));
    assert.doesNotThrow(() => checkImports(info, granted));
  });

  it('lists every denied import at once, memories included even when their name is granted', async () => {
    const info = analyzeModule(await wat(IMPORTS));
    assert.throws(
      () => checkImports(info, granted),
      hasCode('FO_RUNTIME_IMPORT_DENIED', {
        denied: [
          { module: 'wasi_snapshot_preview1', name: 'sock_accept', kind: 'function' },
          { module: 'env', name: 'memory', kind: 'memory' },
        ],
      }),
    );
  });

  it('lets a granted memory through only when non-function imports are allowed', async () => {
    const info = analyzeModule(await wat(`(module (import "env" "memory" (memory 1)))`));
    assert.throws(() => checkImports(info, () => true), hasCode('FO_RUNTIME_IMPORT_DENIED'));
    assert.doesNotThrow(() => checkImports(info, () => true, { allowNonFunctionImports: true }));
    assert.throws(() => checkImports(info, () => false, { allowNonFunctionImports: true }), hasCode('FO_RUNTIME_IMPORT_DENIED'));
  });

  it('passes each import’s kind to the predicate', async () => {
    const seen: string[] = [];
    checkImports(analyzeModule(await wat(IMPORTS)), (module, importName, kind) => (seen.push(`${kind}:${module}.${importName}`), true), { allowNonFunctionImports: true });
    assert.equal(seen.length, 5);
    assert.equal(seen[3], 'memory:env.memory');
  });

  it('escapes control characters in names it quotes, and summarises a long list', async () => {
    const info = analyzeModule(await wat(IMPORTS));
    assert.throws(
      () => checkImports(info, () => false, { allowNonFunctionImports: true }),
      (error: unknown) => hasCode('FO_RUNTIME_IMPORT_DENIED')(error) && !(error as Error).message.includes('\u001b') && (error as Error).message.includes('\\u001b'),
    );
    const many = analyzeModule(await wat(`(module ${Array.from({ length: 14 }, (_, i) => `(import "m" "f${i}" (func))`).join(' ')})`));
    assert.throws(() => checkImports(many, () => false), (error: unknown) => hasCode('FO_RUNTIME_IMPORT_DENIED')(error) && /found 14 not granted: .* and 4 more$/.test((error as Error).message));
  });

  it('counts atomic waits and locates the first, leaving notify out', async () => {
    const info = analyzeModule(await wat(`(module (memory 1 1 shared)
      (func (drop (memory.atomic.notify (i32.const 0) (i32.const 1))))
      (func (drop (memory.atomic.wait64 (i32.const 0) (i64.const 0) (i64.const 0))) (drop (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const 0))))
      (func (drop (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const 0)))))`));
    assert.equal(info.atomicWaits.count, 3);
    assert.equal(info.atomicWaits.first?.instruction, 'memory.atomic.wait64');
    assert.equal(info.atomicWaits.first?.function, 1);
    assert.deepEqual(analyzeModule(await wat('(module (memory 1) (func (drop (memory.atomic.notify (i32.const 0) (i32.const 1)))))')).atomicWaits, { count: 0 });
  });
});
