//! {{name}}: a ForgeOne plugin in Rust, built on the Rust PDK in pdk/ (docs/guide/rust.md).
//! `npm run build` compiles it to plugin.wasm; `npm test` packs, signs, installs and calls it.
use forge_pdk::host::{self, Level};
use forge_pdk::{export, lifecycle, Error, Result};

/// hello(name) -> "Hello, <name>!"; an empty name is refused with the code E_EMPTY.
fn hello(input: Vec<u8>) -> Result<String> {
    if input.is_empty() {
        return Err(Error::new("E_EMPTY", "say who to greet"));
    }
    let name = String::from_utf8(input).map_err(|_| Error::new("E_NOT_UTF8", "the name must be UTF-8"))?;
    Ok(format!("Hello, {}!", name))
}

/// The init entry point named in plugin.toml; an Err fails the plugin's start (and is logged).
fn init() -> Result<()> {
    host::log(Level::Info, "{{name}} ready")
}

export!(hello => hello);
lifecycle!(plugin_init => init);
