import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasCode } from '@forgeone/common/testing';
import { parsePluginToml, type Permissions } from '../../plugin/index.js';
import { CompileCache, DEFAULT_MAX_TABLES, DEFAULT_MAX_TOTAL_TABLE_ELEMENTS, TABLE_ELEMENT_BYTES, analyzeModule, instrumentModule, type CompiledModule } from '../wasm/index.js';
import { moduleOf, name, section, uleb, vec } from '../wasm/test-support/binary.js';
import { wat } from '../wasm/test-support/wat.js';
import { engine, type WasmMemory } from '../wasm/engine.js';
import { prepareModule, type PrepareOptions } from './index.js';

/**
 * Threat B: V8 keeps every table element in host memory (see docs/runtime.md), so
 * thousands of tables, each within the per-table cap, exhaust the host's heap when
 * instantiated. The number of tables and their elements together are capped, and the
 * elements are charged to the plugin's memory budget, all before anything is compiled.
 */
const NO_PERMISSIONS: Permissions = parsePluginToml('[plugin]\nname = "t"\nversion = "1.0.0"\n').permissions;
const PAGE = 65_536;

/** A cache whose compiler fails the test: refusals must come before compiling. */
const noCompile = (): CompileCache => new CompileCache({ compile: (): Promise<CompiledModule> => assert.fail('the module reached the compiler') });

/** A module of `count` defined tables, each `limits` (a limits flag and sizes), and one page of memory. */
function tables(count: number, limits: readonly number[], refType = 0x70): Uint8Array {
  const table = [refType, ...limits];
  return moduleOf(section(4, [...uleb(count), ...Array.from({ length: count }, () => table).flat()]), section(5, vec([[0x00, 0x01]])));
}

const prepare = (bytes: Uint8Array, options: Partial<PrepareOptions> = {}, cache = noCompile()) =>
  prepareModule(bytes, { permissions: NO_PERMISSIONS, maxMemoryBytes: 512 * 1024 * 1024, ...options }, cache);

describe('tables: count, elements and memory budget', () => {
  it('refuses ten thousand tables, each within the per-table cap, before compiling: FO_RUNTIME_TOO_MANY_TABLES', async () => {
    const hostile = tables(10_000, [0x01, ...uleb(100_000), ...uleb(100_000)]);
    assert.equal(analyzeModule(hostile).tables.length, 10_000);
    await assert.rejects(prepare(hostile), hasCode('FO_RUNTIME_TOO_MANY_TABLES', { actual: 10_000, limit: DEFAULT_MAX_TABLES }));
  });

  it('counts imported tables with defined ones (prepare refuses table imports anyway; instrumentation counts them)', () => {
    const imported = moduleOf(section(2, vec([[...name('env'), ...name('t'), 0x01, 0x70, 0x00, 0x01]])), section(4, vec([[0x70, 0x00, 0x01]])));
    assert.throws(() => instrumentModule(imported, { fuel: false, maxTables: 1 }), hasCode('FO_RUNTIME_TOO_MANY_TABLES', { actual: 2, limit: 1 }));
    assert.throws(() => instrumentModule(imported, { fuel: false, maxTableElements: 10, maxTotalTableElements: 19 }), hasCode('FO_RUNTIME_TABLE_ELEMENTS_LIMIT', { actual: 20 }));
  });

  it('refuses tables whose minimum sizes together pass the element limit: FO_RUNTIME_TABLE_ELEMENTS_LIMIT', async () => {
    const big = tables(50, [0x00, ...uleb(100_000)]);
    await assert.rejects(prepare(big), hasCode('FO_RUNTIME_TABLE_ELEMENTS_LIMIT', { limit: DEFAULT_MAX_TOTAL_TABLE_ELEMENTS }));
  });

  it('counts each table at its clamped maximum: small tables that may grow add up too', async () => {
    // One element each, but no maximum: each is clamped to 1,000 and may grow to it.
    const growable = tables(11, [0x00, 0x01]);
    await assert.rejects(prepare(growable, { maxTableElements: 1000, maxTotalTableElements: 10_000 }), hasCode('FO_RUNTIME_TABLE_ELEMENTS_LIMIT', { actual: 11_000, limit: 10_000 }));
    const fixed = tables(11, [0x01, 0x01, 0x01]);
    await assert.doesNotReject(prepare(fixed, { maxTableElements: 1000, maxTotalTableElements: 10_000 }, new CompileCache()));
  });

  it('charges table elements to the memory budget: linear memory gets what remains', async () => {
    const tableBytes = 1000 * TABLE_ELEMENT_BYTES.funcref;
    const bytes = await wat('(module (memory (export "memory") 1) (table 1000 1000 funcref))');
    const prepared = await prepare(bytes, { maxMemoryBytes: 4 * PAGE + tableBytes }, new CompileCache());
    assert.equal(analyzeModule(bytes).memories[0]?.maxPages, undefined);
    const memory = (await engine.instantiate(prepared.module)).exports['memory'] as WasmMemory;
    // The memory may grow from 1 page to 4 (the budget less the table), not to 5.
    assert.equal(memory.grow(3), 1);
    assert.throws(() => memory.grow(1), RangeError);
    // A budget one byte short of the table plus one page refuses the module outright.
    await assert.rejects(prepare(bytes, { maxMemoryBytes: PAGE + tableBytes - 1 }), hasCode('FO_RUNTIME_MEMORY_LIMIT', { tableBytes }));
    // Tables alone over the budget: refused the same way.
    await assert.rejects(prepare(bytes, { maxMemoryBytes: tableBytes - 1 }), hasCode('FO_RUNTIME_MEMORY_LIMIT', { tableBytes }));
  });

  it('charges externref elements at their own, smaller cost', async () => {
    const bytes = await wat('(module (memory 1) (table 1000 1000 externref))');
    await assert.doesNotReject(prepare(bytes, { maxMemoryBytes: PAGE + 1000 * TABLE_ELEMENT_BYTES.externref }, new CompileCache()));
    await assert.rejects(prepare(bytes, { maxMemoryBytes: PAGE + 1000 * TABLE_ELEMENT_BYTES.externref - 1 }), hasCode('FO_RUNTIME_MEMORY_LIMIT'));
  });

  it('lets the options narrow the defaults, and keeps a module within them unchanged in behaviour', async () => {
    const two = tables(2, [0x01, 0x01, 0x01]);
    await assert.rejects(prepare(two, { maxTables: 1 }), hasCode('FO_RUNTIME_TOO_MANY_TABLES'));
    await assert.rejects(prepare(two, { maxTotalTableElements: 1 }), hasCode('FO_RUNTIME_TABLE_ELEMENTS_LIMIT', { actual: 2, limit: 1 }));
    await assert.doesNotReject(prepare(two, {}, new CompileCache()));
  });
});
