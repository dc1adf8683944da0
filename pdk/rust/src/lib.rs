//! `forge_pdk`: the ForgeOne plugin development kit for Rust (the forge/1 ABI,
//! docs/reference/abi.md). The guide is docs/guide/rust.md.
//!
//! - [`export!`] and [`lifecycle!`] make forge/1 exports of plain functions; the
//!   allocator exports `forge_alloc`/`forge_free` come with the crate.
//! - [`host`] has a typed wrapper for every `forge.*` host call; only those a plugin
//!   calls are imported.
//! - [`json`] parses and writes JSON; [`codec`] is the host-call encoding.
//! - Every failure is an [`Error`] with a code: the host's (`FO_...`), the PDK's
//!   (`PDK_...`, in [`codes`]) or the plugin's own.
//!
//! Built with plain `rustc` (1.63 or later) for `wasm32-wasi`, without external crates
//! (pdk/rust/build.mjs). A panic traps: see [`mod@panic`].

pub mod abi;
pub mod codec;
mod error;
pub mod host;
pub mod json;
pub mod panic;

pub use abi::{IntoOutput, Output};
pub use error::{codes, text, Error, Result, CODE_MAX, MESSAGE_MAX};
