import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { wasm } from '../abi/wasm-api.js';
import { assembleWat, disassembleWasm } from './wat.js';

const TAIL_CALL = `(module
  (func $f (result i32) (i32.const 7))
  (func (export "g") (result i32) (return_call $f)))`;

describe('the test WAT assembler', () => {
  it('assembles text into a module the engine instantiates, with a name section only when asked', async () => {
    const text = '(module (func $answer (export "answer") (result i32) (i32.const 42)))';
    const bytes = await assembleWat(text);
    const instance = await wasm.instantiate(await wasm.compile(bytes));
    assert.equal((instance.exports['answer'] as () => number)(), 42);
    assert.equal(wasm.Module.customSections(new wasm.Module(bytes), 'name').length, 0);
    const named = await assembleWat(text, { names: true });
    assert.equal(wasm.Module.customSections(new wasm.Module(named), 'name').length, 1);
  });

  it('names the file, the line and the column of a syntax error and shows that line between its neighbours', async () => {
    const text = '(module\n  (func (export "x")\n    (i32.add (i32.const 1))\n  bogus))';
    await assert.rejects(assembleWat(text, { name: 'broken' }), (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.match(error.message, /^broken\.wat does not parse \(wabt\):\n {2}line 4, column 3: unexpected token bogus/);
      assert.match(error.message, /\n {4}3 \| {5}\(i32\.add \(i32\.const 1\)\)\n {2}> 4 \| {3}bogus\)\)$/);
      return true;
    });
  });

  it("refuses a module the engine refuses, with the engine's reason and the line wabt blames", async () => {
    await assert.rejects(assembleWat('(module\n  (func (result i32)\n    (i64.const 1)))'), (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.match(error.message, /^guest\.wat assembles into a module this engine refuses: /);
      assert.match(error.message, /\nwabt says:\n {2}line 3, column 6: type mismatch/);
      return true;
    });
  });

  it('enables the proposals it is given, and only those', async () => {
    await assert.rejects(assembleWat(TAIL_CALL), /does not parse \(wabt\)/);
    const bytes = await assembleWat(TAIL_CALL, { features: { tail_call: true } });
    const instance = await wasm.instantiate(await wasm.compile(bytes));
    assert.equal((instance.exports['g'] as () => number)(), 7);
  });

  it('disassembles bytes back into text', async () => {
    const text = await disassembleWasm(await assembleWat('(module (func (export "f") (result i32) (i32.const 5)))'));
    assert.match(text, /\(func .*\(result i32\)/);
    assert.match(text, /i32\.const 5/);
  });
});
