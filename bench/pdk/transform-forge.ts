// bench/pdk's transform with ForgeOne's AssemblyScript PDK (the logic: transform-core.ts).
import { Input, Output, call, forge_alloc, forge_free } from '@forgeone/pdk';
import { transformJson } from './transform-core';
export { forge_alloc, forge_free };

export function transform(ptr: u32, len: u32): u64 {
  return call(ptr, len, (input: Input): Output => {
    const out = transformJson(input.bytes);
    return out === null ? Output.error('E_SHAPE', 'expected {"items":[...]}') : Output.bytes(out);
  });
}
