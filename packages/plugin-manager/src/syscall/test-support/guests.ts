/**
 * Guest programs for the host-call tests, in WebAssembly text, assembled with wabt.
 */
import { readFileSync } from 'node:fs';
import { BUMP_ALLOCATOR, assemble } from '../../abi/test-support/guests.js';
import { repoFile } from '../../abi/test-support/repo.js';
import type { WasmModule } from '../../abi/wasm-api.js';
import { FORGE_HOST_FUNCTION_NAMES } from '../forge-host.js';

/**
 * Imports every forge.* function and exports each under its own name as a relay: the
 * export passes its input to the host function and returns the host's packed result
 * as its own (the encodings are the same), so a host refusal surfaces as
 * FO_ABI_GUEST_ERROR with the host's code in details.guestCode.
 */
export const RELAY_GUEST = `(module
  ${FORGE_HOST_FUNCTION_NAMES.map((name) => `(import "forge" "${name}" (func $${name} (param i32 i32) (result i64)))`).join('\n  ')}
  (memory (export "memory") 1)
  ${BUMP_ALLOCATOR}
  ${FORGE_HOST_FUNCTION_NAMES.map(
    (name) => `(func (export "${name}") (param $p i32) (param $len i32) (result i64) (call $${name} (local.get $p) (local.get $len)))`,
  ).join('\n  ')}
)`;

/**
 * The counter plugin of docs/reference/abi.md §14: the ```wat block after the heading
 * "Example: a counter in the key-value store". `increment` reads the 4-byte
 * little-endian value under "count" (0 when kv_get answers an error such as
 * not-found), adds one, stores it with kv_set and returns it.
 */
export function counterGuest(): string {
  const doc = readFileSync(repoFile('docs/reference/abi.md'), 'utf8');
  const match = /### Example: a counter in the key-value store[\s\S]*?```wat\n(\(module[\s\S]*?)```/.exec(doc);
  if (match?.[1] === undefined) throw new Error('docs/reference/abi.md has no counter example in §14');
  return match[1];
}

let relay: Promise<WasmModule> | undefined;

/** The relay guest, assembled once per process. */
export function relayModule(): Promise<WasmModule> {
  relay ??= assemble('relay', RELAY_GUEST);
  return relay;
}
