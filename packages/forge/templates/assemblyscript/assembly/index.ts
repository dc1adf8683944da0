// {{name}}: a ForgeOne plugin in AssemblyScript, built on @forgeone/pdk (pdk/, installed by
// npm install; docs/guide/assemblyscript.md). `npm run build` compiles it to plugin.wasm;
// `npm test` packs, signs, installs and calls it.
import { Input, Level, Output, call, forge_alloc, forge_free, lifecycle, log } from '@forgeone/pdk';
export { forge_alloc, forge_free };

/** hello(name) -> "Hello, <name>!"; an empty name is refused with the code E_EMPTY. */
export function hello(ptr: u32, len: u32): u64 {
  return call(ptr, len, (input: Input): Output => {
    if (input.length == 0) return Output.error('E_EMPTY', 'say who to greet');
    return Output.text('Hello, ' + input.text() + '!');
  });
}

/** The init entry point named in plugin.toml; a non-zero result fails the plugin's start. */
export function plugin_init(): i32 {
  return lifecycle((): i32 => (log(Level.Info, '{{name}} ready').ok ? 0 : 1));
}
