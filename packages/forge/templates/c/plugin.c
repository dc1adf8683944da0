/*
 * {{name}}: a ForgeOne plugin in C, built on the C PDK in pdk/ (docs/guide/c.md).
 * `npm run build` compiles it to plugin.wasm; `npm test` packs, signs, installs and calls it.
 */
#include "forge.h"

/* hello(name) -> "Hello, <name>!"; an empty name is refused with the code E_EMPTY. */
static forge_result hello(forge_input in) {
  if (in.len == 0) return forge_error("E_EMPTY", "say who to greet");
  forge_writer w;
  forge_writer_init(&w, in.len + 8);
  forge_write_slice(&w, FORGE_LIT("Hello, "));
  forge_write(&w, in.ptr, in.len);
  forge_write_slice(&w, FORGE_LIT("!"));
  return forge_ok_writer(&w);
}
FORGE_EXPORT(hello, hello)

/* The init entry point named in plugin.toml; a non-zero result fails the plugin's start. */
static int on_init(void) {
  forge_status s = forge_log(FORGE_INFO, FORGE_LIT("{{name}} ready"));
  return s.ok ? 0 : 1;
}
FORGE_LIFECYCLE(plugin_init, on_init)
