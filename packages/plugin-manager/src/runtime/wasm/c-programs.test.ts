import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { WASI } from 'node:wasi';
import { hasCode, requireTool } from '@forgeone/common/testing';
import { analyzeModule } from './analyze.js';
import { decodeModule } from './decode.js';
import { encodeModule } from './encode.js';
import { engine, type WasmImports, type WasmInstance } from './engine.js';
import { instrumentModule } from './instrument.js';
import { FuelMeter } from './fuel-meter.js';
import { BULK_MEMORY_SHIFT } from './opcodes.js';
import { C_PROGRAMS, KERNEL_ARGS, clangArgs, compileProgram, programDir, writeProbe, type CProgram } from './test-support/c-programs.js';
import { fn } from './test-support/instances.js';
import { runWasi } from './test-support/wasi-run.js';

const RUNS: readonly { readonly program: CProgram; readonly args: readonly string[]; readonly env?: Readonly<Record<string, string>> }[] = [
  { program: 'compute', args: [] },
  { program: 'compute', args: ['2'] },
  { program: 'strings', args: ['12', '0x10', 'word'] },
  { program: 'memory', args: [], env: { FORGE_TEST: 'yes' } },
  { program: 'simd', args: [] },
  { program: 'copies', args: [] },
];

let dir = '';

/** Instantiates a WASI reactor and runs its initialiser, with `fuel` when it is instrumented. */
async function reactor(bytes: Uint8Array, fuel?: bigint): Promise<WasmInstance> {
  const wasi = new WASI({ version: 'preview1', returnOnExit: true });
  const instance = await engine.instantiate(await engine.compile(bytes), wasi.getImportObject() as WasmImports);
  if (fuel !== undefined) FuelMeter.of(instance).remaining = fuel;
  wasi.initialize(instance);
  return instance;
}
const compiled = new Map<CProgram, Uint8Array>();

/** Skips (or, under CI, fails) unless clang can build a wasm32-wasi program, then builds the one asked for. */
function program(t: TestContext, name: CProgram): Uint8Array | undefined {
  const probe = writeProbe(dir);
  if (!requireTool(t, 'clang', clangArgs(probe, join(dir, 'probe.wasm')))) return undefined;
  let bytes = compiled.get(name);
  if (bytes === undefined) {
    bytes = compileProgram(dir, name);
    compiled.set(name, bytes);
  }
  return bytes;
}

describe('real compiled C programs (clang --target=wasm32-wasi)', () => {
  before(() => {
    dir = programDir();
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  for (const { program: name, args, env } of RUNS) {
    it(`prints and returns the same instrumented as not: ${name} ${args.join(' ')}`.trimEnd(), async (t) => {
      const bytes = program(t, name);
      if (bytes === undefined) return;
      const original = await runWasi(await engine.compile(bytes), { args, ...(env === undefined ? {} : { env }) });
      const instrumented = instrumentModule(bytes, { fuel: true, maxMemoryBytes: 64 * 1024 * 1024, maxTableElements: 10_000 });
      assert.ok(engine.validate(instrumented.bytes));
      const metered = await runWasi(await engine.compile(instrumented.bytes), { args, fuel: 10n ** 12n, ...(env === undefined ? {} : { env }) });
      assert.ok(original.stdout.length > 0, 'the program printed something');
      assert.equal(metered.stdout, original.stdout);
      assert.equal(metered.stderr, original.stderr);
      assert.equal(metered.exitCode, original.exitCode);
      assert.ok((metered.used ?? 0n) > 0n);
      t.diagnostic(`${name}: ${bytes.length} bytes, ${metered.used} fuel, exit ${metered.exitCode}`);
    });
  }

  it('re-encodes every program byte for byte', (t) => {
    for (const name of Object.keys(C_PROGRAMS) as CProgram[]) {
      const bytes = program(t, name);
      if (bytes === undefined) return;
      assert.deepEqual(encodeModule(decodeModule(bytes).module), bytes, name);
    }
  });

  it('uses the same fuel on every run of the same program and input', async (t) => {
    const bytes = program(t, 'compute');
    if (bytes === undefined) return;
    const module = await engine.compile(instrumentModule(bytes, { fuel: true }).bytes);
    const first = await runWasi(module, { args: ['1'], fuel: 10n ** 12n });
    const second = await runWasi(module, { args: ['1'], fuel: 10n ** 12n });
    assert.equal(second.used, first.used);
  });

  it('stops a program that runs out of fuel with FO_SANDBOX_CPU_LIMIT', async (t) => {
    const bytes = program(t, 'compute');
    if (bytes === undefined) return;
    const module = await engine.compile(instrumentModule(bytes, { fuel: true }).bytes);
    await assert.rejects(runWasi(module, { args: ['1'], fuel: 1_000_000n }), hasCode('FO_SANDBOX_CPU_LIMIT', { budget: '1000000' }));
  });

  it('computes the same in every kernel of a reactor, called export by export', async (t) => {
    const bytes = program(t, 'kernels');
    if (bytes === undefined) return;
    const original = await reactor(bytes);
    const instrumented = await reactor(instrumentModule(bytes, { fuel: true }).bytes, 10n ** 12n);
    const meter = FuelMeter.of(instrumented);
    for (const [kernel, arg] of Object.entries(KERNEL_ARGS)) {
      const small = Math.max(2, Math.floor(arg / 10));
      const { value, used } = meter.run(10n ** 12n, () => fn(instrumented, kernel)(small));
      assert.equal(value, fn(original, kernel)(small), kernel);
      assert.ok(used > 0n);
    }
  });

  it('charges the copies program at least one unit per 2^BULK_MEMORY_SHIFT bytes it copies, moves and sets', async (t) => {
    const bytes = program(t, 'copies');
    if (bytes === undefined) return;
    assert.ok(analyzeModule(bytes).features.includes('bulk-memory'));
    const module = await engine.compile(instrumentModule(bytes, { fuel: true, maxMemoryBytes: 64 * 1024 * 1024 }).bytes);
    const few = await runWasi(module, { args: ['4'], fuel: 10n ** 12n });
    const many = await runWasi(module, { args: ['40'], fuel: 10n ** 12n });
    // The lengths rounds 4 to 39 pass to memcpy, memmove and memset (see the program).
    const half = (1 << 20) / 2;
    let charged = 0n;
    for (let round = 4; round < 40; round += 1) {
      const length = (round * 7919 + 1) % half;
      for (const part of [length, Math.floor(length / 2), Math.floor(length / 3)]) charged += BigInt(Math.ceil(part / 2 ** BULK_MEMORY_SHIFT));
    }
    assert.ok((many.used ?? 0n) - (few.used ?? 0n) >= charged, `${few.used} then ${many.used}: at least ${charged} more`);
  });

  it('reports the WASI imports and the proposals clang used', (t) => {
    const bytes = program(t, 'simd');
    if (bytes === undefined) return;
    const info = analyzeModule(bytes);
    assert.ok(info.imports.every((entry) => entry.module === 'wasi_snapshot_preview1' && entry.kind === 'function'));
    assert.ok(info.imports.some((entry) => entry.name === 'fd_write'));
    assert.ok(info.features.includes('simd'), info.features.join(', '));
    assert.ok(info.exports.some((entry) => entry.name === '_start'));
  });
});
