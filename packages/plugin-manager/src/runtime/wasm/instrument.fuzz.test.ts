/**
 * Fuzz: the wasm decoder and the fuel instrumenter.
 *
 * - Generated valid modules (test-support/fuzz-bodies.ts: i32 arithmetic, locals, blocks,
 *   loops with bounded trip counts, br_if, calls, host calls) decode and re-encode byte
 *   for byte; the instrumented module validates and returns what the original and a
 *   reference interpreter return; the fuel it uses is at least the instructions it
 *   executed that cost fuel (none runs unpaid) and exactly what docs/runtime.md's scheme
 *   charges (each region's cost at function entry and at every loop iteration, and
 *   HOST_CALL_FUEL per host call, its imports wrapped by HostCallFuel as every plugin's are).
 * - Mutated bytes of such modules never escape the decoder or the instrumenter as anything
 *   but a ForgeError with a code other than FO_INTERNAL_UNEXPECTED; when the engine
 *   accepts the mutated module, the instrumented one is accepted too.
 * Seeded: see docs/fuzzing.md for FORGE_FUZZ_SEED / FORGE_FUZZ_RUNS.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { ForgeError } from '@forgeone/common';
import { runFuzz } from '@forgeone/common/testing';
import fc from 'fast-check';
import { decodeModule } from './decode.js';
import { encodeModule } from './encode.js';
import { engine } from './engine.js';
import { FuelMeter } from './fuel-meter.js';
import { FUEL_EXPORT, instrumentModule } from './instrument.js';
import { HostCallFuel } from '../../abi/index.js';
import { HOST_IMPORTS, encodeFuncs, funcs, interpret } from './test-support/fuzz-bodies.js';
import { fn } from './test-support/instances.js';

const AMPLE = 10n ** 12n;

/** The documented contract: a valid module stays valid, an invalid one the decoder lets through stays invalid. */
function checkValidity(input: Uint8Array, output: Uint8Array): void {
  assert.equal(engine.validate(output), engine.validate(input), engine.validate(input) ? 'a valid module became invalid once instrumented' : 'an invalid module became valid once instrumented');
}

/** Instruments `bytes`; a refusal must be a ForgeError with a real reason. */
function instrumentOrRefuse(bytes: Uint8Array): Uint8Array | undefined {
  try {
    return instrumentModule(bytes, { fuel: true }).bytes;
  } catch (error) {
    assert.ok(error instanceof ForgeError, `threw ${String(error)}: ${(error as Error).stack}`);
    assert.notEqual(error.code, 'FO_INTERNAL_UNEXPECTED', error.message);
    return undefined;
  }
}

/** Fuzzes `runs` mutated modules: each is instrumented or refused (see above), and validity is kept. */
async function checkMutated(mutated: fc.Arbitrary<Uint8Array>, runs: number): Promise<void> {
  await runFuzz(
    'instrument.fuzz',
    runs,
    (settings) =>
      fc.check(
        fc.property(mutated, (bytes) => {
          const instrumented = instrumentOrRefuse(bytes);
          if (instrumented !== undefined) checkValidity(bytes, instrumented);
        }),
        settings,
      ),
    (details) => fc.defaultReportMessage(details),
  );
}

/** The example plugins, built by `npm run build`: real toolchain output (C, Rust, AssemblyScript) to mutate. */
const EXAMPLES = ['sample-plugin', 'c-plugin', 'rust-plugin'].map((name) => readFileSync(fileURLToPath(new URL(`../../../../../examples/${name}/plugin.wasm`, import.meta.url))));

describe('wasm fuzz: decoder and fuel instrumenter', () => {
  it('generated modules: instrumented output validates, computes the same and is charged as documented', async () => {
    await runFuzz(
      'instrument.fuzz',
      300,
      (settings) =>
        fc.check(
          fc.property(funcs, fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (list, arg) => {
            const bytes = encodeFuncs(list);
            assert.ok(engine.validate(bytes), 'the generator made an invalid module');
            assert.deepEqual(encodeModule(decodeModule(bytes).module), bytes, 'decode then encode is the identity');
            const instrumented = instrumentModule(bytes, { fuel: true }).bytes;
            assert.ok(engine.validate(instrumented), 'the instrumented module is invalid');
            const model = interpret(list, arg);
            const original = new engine.Instance(new engine.Module(bytes), HOST_IMPORTS);
            assert.equal(fn(original, 'main')(arg), model.result, 'the original differs from the reference interpreter');
            const hostCalls = new HostCallFuel(FUEL_EXPORT);
            const instance = new engine.Instance(new engine.Module(instrumented), hostCalls.wrap(HOST_IMPORTS));
            hostCalls.bind(instance);
            const { value, used } = FuelMeter.of(instance).run(AMPLE, () => fn(instance, 'main')(arg));
            assert.equal(value, model.result, 'the instrumented module computes something else');
            assert.ok(used >= BigInt(model.executed), `used ${used} fuel for ${model.executed} costly instructions executed`);
            assert.equal(used, BigInt(model.charged), `used ${used} fuel; the documented scheme charges ${model.charged}`);
          }),
          settings,
        ),
      (details) => fc.defaultReportMessage(details),
    );
  });

  it('mutated modules: decoded and instrumented, or refused with a ForgeError; valid in, valid out', async () => {
    const mutation = fc.record({
      at: fc.nat(),
      kind: fc.constantFrom('set', 'insert', 'remove'),
      byte: fc.oneof(fc.nat(255), fc.constantFrom(0x00, 0x0b, 0x7f, 0x80, 0xff, 0x02, 0x03, 0x0d, 0x10, 0x40)),
    });
    const mutated = fc.tuple(funcs, fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([list, edits]) => {
      const bytes = [...encodeFuncs(list)];
      for (const { at, kind, byte } of edits) {
        const where = 8 + (at % Math.max(1, bytes.length - 7)); // the header stays: past it is where decoders differ
        if (kind === 'set') bytes[where] = byte;
        else if (kind === 'insert') bytes.splice(where, 0, byte);
        else bytes.splice(where, 1);
      }
      return Uint8Array.from(bytes);
    });
    await checkMutated(mutated, 2000);
  });

  it('mutated example plugins (C, Rust, AssemblyScript): instrumented or refused with a ForgeError; validity kept', async () => {
    const edit = fc.record({ at: fc.nat(), kind: fc.constantFrom('set', 'insert', 'remove'), byte: fc.oneof(fc.nat(255), fc.constantFrom(0x00, 0x0b, 0x7f, 0x80, 0xff)) });
    const mutated = fc.tuple(fc.constantFrom(...EXAMPLES), fc.array(edit, { minLength: 1, maxLength: 3 })).map(([original, edits]) => {
      const bytes = Buffer.from(original);
      let out = bytes;
      for (const { at, kind, byte } of edits) {
        const where = 8 + (at % Math.max(1, out.length - 8));
        if (kind === 'set') out[where] = byte;
        else if (kind === 'insert') out = Buffer.concat([out.subarray(0, where), Buffer.of(byte), out.subarray(where)]);
        else out = Buffer.concat([out.subarray(0, where), out.subarray(where + 1)]);
      }
      return new Uint8Array(out);
    });
    await checkMutated(mutated, 150);
  });
});
