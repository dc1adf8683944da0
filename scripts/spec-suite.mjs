#!/usr/bin/env node
// The official WebAssembly spec suite through ForgeOne's decoder, encoder and
// instrumenter (docs/spec-suite.md). Each .wast file of a checkout of
// WebAssembly/testsuite is converted with wabt's wast2json into a temporary directory,
// then every command is checked:
//   - a module the engine accepts: it decodes, re-encodes and instruments (fuel, and
//     memory and table caps at the largest sizes the engine allows), both outputs still
//     validate, and the instrumented module replays every action and assertion
//     (assert_return, assert_trap, assert_exhaustion, plain actions) with exactly the
//     original's outcome, in a world of instrumented modules of its own;
//     assert_uninstantiable and assert_unlinkable modules fail to instantiate in both;
//   - a module the suite calls valid that this engine does not run (memory64, say): it
//     decodes and instruments, unless ForgeOne refuses its proposal;
//   - assert_invalid and (binary) assert_malformed modules: the decoder refuses a
//     malformed one; an invalid one is refused by the instrumenter under every option set
//     tried, or comes out still invalid (WebAssembly.validate), never turned valid.
// Modules using a proposal ForgeOne refuses (FO_RUNTIME_UNSUPPORTED_FEATURE) or that
// this Node's engine does not run are counted as skipped, as are files wast2json
// cannot convert. Prints a summary and every failure (file:line, what happened); exits
// 1 on any failure.
//
// Usage: npm run build && node scripts/spec-suite.mjs --suite DIR [--only NAME,...] [--json]
//   DIR: a checkout of WebAssembly/testsuite (its proposals/ are walked too)
//   --only: keep files whose path (relative to DIR) contains one of the comma-separated NAMEs
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
// Internals, by built path (as bench/ does): the decoder, encoder and instrumenter themselves.
import { decodeModule } from '../packages/plugin-manager/dist/runtime/wasm/decode.js';
import { encodeModule } from '../packages/plugin-manager/dist/runtime/wasm/encode.js';
import { instrumentModule } from '../packages/plugin-manager/dist/runtime/wasm/instrument.js';
import { convert } from './spec-suite-convert.mjs';
import { World, outcomeOf, perform } from './spec-suite-world.mjs';

const { values } = parseArgs({ options: { suite: { type: 'string' }, only: { type: 'string' }, json: { type: 'boolean' } } });
if (values.suite === undefined) {
  console.error('usage: node scripts/spec-suite.mjs --suite DIR [--only NAME,...] [--json]   (DIR: a checkout of WebAssembly/testsuite)');
  process.exit(2);
}

/** Instrumentation for valid modules: fuel enough for anything, caps at the engine's own maxima. */
const REPLAY_OPTIONS = { fuel: true, initialFuel: 2n ** 62n, maxMemoryBytes: 65_536 * 65_536, maxTableElements: 10_000_000 };
/** Option sets an invalid module must not come out of valid: plain, fuel, large caps, small caps. */
const INVALID_OPTIONS = [
  { fuel: true },
  REPLAY_OPTIONS,
  { fuel: true, maxMemoryBytes: 65_536, maxTableElements: 1, maxTables: 1, maxTotalTableElements: 1 },
  { fuel: false, memoryBudgetBytes: 64 * 65_536 },
];

const stats = { files: 0, converted: 0, notConverted: [], droppedCommands: 0, modules: 0, skippedModules: 0, unsupported: 0, assertions: 0, invalid: 0, malformed: 0, failures: [] };

function* wastFiles(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* wastFiles(path);
    else if (entry.name.endsWith('.wast')) yield path;
  }
}

/** True for a ForgeError (with `code`, when given). */
function isForgeCode(error, code) {
  return typeof error?.code === 'string' && error.code.startsWith('FO_') && (code === undefined || error.code === code);
}

/** Checks one module the engine accepts; returns the instrumented bytes, or undefined when skipped. */
function checkValid(bytes, fail) {
  let decoded;
  try {
    decoded = decodeModule(bytes).module;
  } catch (error) {
    if (isForgeCode(error, 'FO_RUNTIME_UNSUPPORTED_FEATURE')) {
      stats.unsupported += 1;
      return undefined;
    }
    fail(`valid module refused by the decoder: ${error.code ?? ''} ${error.message}`);
    return undefined;
  }
  if (!WebAssembly.validate(encodeModule(decoded))) fail('decoded and re-encoded module no longer validates');
  try {
    const { bytes: out } = instrumentModule(bytes, REPLAY_OPTIONS);
    if (WebAssembly.validate(out)) return out;
    fail('instrumented module no longer validates');
  } catch (error) {
    fail(`valid module refused by the instrumenter: ${error.code ?? ''} ${error.message}`);
  }
  return undefined;
}

/**
 * A module the suite calls valid but this engine cannot validate (a proposal Node does
 * not run yet, such as memory64): it must decode and instrument all the same, unless it
 * uses a proposal ForgeOne refuses.
 */
function checkDecodes(bytes, fail) {
  for (const run of [() => decodeModule(bytes), () => instrumentModule(bytes, { fuel: true })]) {
    try {
      run();
    } catch (error) {
      if (isForgeCode(error, 'FO_RUNTIME_UNSUPPORTED_FEATURE')) return;
      fail(`valid module (which this engine does not run) refused: ${error.code ?? ''} ${error.message}`);
      return;
    }
  }
}

/** Checks an assert_invalid or assert_malformed module comes out refused or still invalid. */
function checkRefused(bytes, malformed, fail) {
  if (WebAssembly.validate(bytes)) return false; // this engine accepts it: nothing to hold us to
  if (malformed) {
    try {
      decodeModule(bytes);
      fail('malformed module accepted by the decoder');
    } catch (error) {
      if (!isForgeCode(error)) fail(`decoder threw a non-ForgeError: ${outcomeOf(error)}`);
    }
  }
  for (const options of INVALID_OPTIONS) {
    try {
      const { bytes: out } = instrumentModule(bytes, options);
      if (WebAssembly.validate(out)) fail(`invalid module became valid after instrumentation with ${JSON.stringify(options, (_, v) => (typeof v === 'bigint' ? String(v) : v))}`);
    } catch (error) {
      if (!isForgeCode(error)) fail(`instrumenter threw a non-ForgeError: ${outcomeOf(error)}`);
    }
  }
  return true;
}

/** How instantiating fails: the error's class, or 'instantiates'. */
function failureClass(instantiate) {
  try {
    instantiate();
    return 'instantiates';
  } catch (error) {
    return `fails with ${error?.constructor?.name ?? typeof error}`;
  }
}

function runFile(path, rel) {
  const dir = mkdtempSync(join(tmpdir(), 'forge-spec-'));
  try {
    const converted = convert(path, dir);
    if (converted.error !== undefined) {
      stats.notConverted.push({ file: rel, reason: converted.error });
      return;
    }
    stats.converted += 1;
    stats.droppedCommands += converted.dropped.length;
    replay(converted.commands, dir, rel);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function replay(commands, dir, rel) {
  const original = new World();
  const forged = new World();
  const read = (file) => new Uint8Array(readFileSync(join(dir, file)));
  for (const command of commands) {
    const fail = (what) => stats.failures.push({ file: rel, line: command.line, what });
    switch (command.type) {
      case 'module': {
        stats.modules += 1;
        const bytes = read(command.filename);
        let instance;
        try {
          instance = original.instantiate(bytes);
        } catch {
          stats.skippedModules += 1; // this engine does not run it: its assertions are skipped too
          if (!WebAssembly.validate(bytes)) checkDecodes(bytes, fail);
          original.add(undefined, command.name);
          forged.add(undefined, command.name);
          break;
        }
        original.add(instance, command.name);
        const out = checkValid(bytes, fail);
        if (out === undefined) {
          forged.add(undefined, command.name);
          original.add(undefined, command.name);
          break;
        }
        try {
          forged.add(forged.instantiate(out), command.name);
        } catch (error) {
          forged.add(undefined, command.name);
          fail(`instrumented module does not instantiate: ${outcomeOf(error)}`);
        }
        break;
      }
      case 'register':
        original.register(command.as, command.name);
        forged.register(command.as, command.name);
        break;
      case 'action':
      case 'assert_return':
      case 'assert_trap':
      case 'assert_exhaustion': {
        const name = command.action.module;
        if (original.target(name) === undefined) break;
        stats.assertions += 1;
        const want = perform(original.target(name), command.action);
        const got = perform(forged.target(name), command.action);
        if (want !== got) fail(`${command.type} ${command.action.field}: original gives ${want}, instrumented gives ${got}`);
        break;
      }
      case 'assert_invalid':
      case 'assert_malformed':
        if (command.module_type !== 'binary') break; // text-format errors never reach a decoder
        if (checkRefused(read(command.filename), command.type === 'assert_malformed', fail)) stats[command.type === 'assert_invalid' ? 'invalid' : 'malformed'] += 1;
        break;
      case 'assert_uninstantiable':
      case 'assert_unlinkable': {
        const bytes = read(command.filename);
        if (!WebAssembly.validate(bytes)) break;
        const out = checkValid(bytes, fail);
        if (out === undefined) break;
        stats.assertions += 1;
        // Both worlds instantiate it: a trapping start function still writes to what it imported.
        const want = failureClass(() => original.instantiate(bytes));
        const got = failureClass(() => forged.instantiate(out));
        if (want !== got) fail(`${command.type}: original ${want}, instrumented ${got}`);
        break;
      }
      default:
        break;
    }
  }
}

const suite = values.suite;
const only = values.only?.split(',');
for (const path of wastFiles(suite)) {
  const rel = relative(suite, path);
  if (only !== undefined && !only.some((name) => rel.includes(name))) continue;
  stats.files += 1;
  runFile(path, rel);
}

if (values.json) console.log(JSON.stringify(stats, null, 2));
else {
  console.log(`files: ${stats.files} (${stats.converted} converted by wast2json, ${stats.notConverted.length} not; ${stats.droppedCommands} commands it cannot parse left out)`);
  console.log(`modules: ${stats.modules} (${stats.skippedModules} this engine does not run, ${stats.unsupported} refused as unsupported proposals)`);
  console.log(`assertions replayed: ${stats.assertions}`);
  console.log(`invalid modules checked: ${stats.invalid}, malformed binaries checked: ${stats.malformed}`);
  console.log(`failures: ${stats.failures.length}`);
  for (const { file, line, what } of stats.failures) console.log(`  ${file}:${line}: ${what}`);
}
process.exit(stats.failures.length === 0 ? 0 : 1);
