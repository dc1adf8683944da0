#!/usr/bin/env node
// Compiles an AssemblyScript plugin that uses @forgeone/pdk into a forge/1 module:
//   node packages/pdk/build.mjs ENTRY.ts OUTPUT.wasm
// or, from a build script: import { buildPlugin } from '@forgeone/pdk/build'.
//
// The flags, and why (docs/guide/assemblyscript.md):
// - `--runtime minimal`: TLSF allocator and a mark-and-sweep collector that runs only when
//   asked; the PDK's `call` and `lifecycle` collect after every call, when no managed
//   value is on the stack. Calls are short, so this is cheap, and a long-running plugin
//   does not grow (the stub runtime never frees; the incremental one costs more code and
//   work inside calls).
// - `--use abort=...`: asc imports `env.abort` otherwise, which no ForgeOne host offers;
//   the PDK's abort logs through forge.log and traps.
// - `--exportStart _initialize`: top-level code runs when the host calls _initialize,
//   after it bound the memory, so it may call forge.* (in a start section it may not).
// - `-O3 --noAssert --converge`, no debug names: small, deterministic modules.
// Writes OUTPUT only when the bytes change (a build while tests read it changes nothing).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** asc's arguments for `entry` (an AssemblyScript file) and `abort` (forgeAbort or forgeAbortQuiet). */
export function ascArgs(entry, abort = 'forgeAbort') {
  // asc looks for node_modules/@forgeone/pdk from its base directory up, as Node does
  // from the importing file: the entry's directory.
  return [entry, '--baseDir', dirname(entry), '--runtime', 'minimal', '--use', `abort=~lib/@forgeone/pdk/assembly/abort/${abort}`, '--exportStart', '_initialize', '-O3', '--noAssert', '--converge', '--outFile', 'plugin.wasm'];
}

/**
 * Compiles `entry` into `output`. Resolves to the module's size in bytes; rejects with
 * asc's diagnostics when the compilation fails.
 */
export async function buildPlugin(entry, output, options = {}) {
  const { default: asc } = await import('assemblyscript/asc');
  let binary;
  const stderr = [];
  const { error } = await asc.main(ascArgs(resolve(entry), options.abort), {
    writeFile(name, contents) {
      if (name.endsWith('.wasm')) binary = Buffer.from(contents);
    },
    stdout: { write: (text) => stderr.push(String(text)) },
    stderr: { write: (text) => stderr.push(String(text)) },
  });
  if (error || binary === undefined) throw new Error(`asc could not compile ${entry}: ${error?.message ?? 'no module written'}\n${stderr.join('')}`);
  if (!existsSync(output) || !readFileSync(output).equals(binary)) writeFileSync(output, binary);
  return binary.length;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [entry, output] = process.argv.slice(2);
  if (entry === undefined || output === undefined) {
    console.error('usage: node packages/pdk/build.mjs ENTRY.ts OUTPUT.wasm');
    process.exit(2);
  }
  try {
    const size = await buildPlugin(entry, output);
    console.error(`built ${output} (${size} bytes)`);
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
}
