//! Calls between plugins (docs/registry.md): `forge.call_plugin` and
//! `forge.register_extension`.

use super::raw;
use crate::codec::Request;
use crate::error::Result;

/// `forge.call_plugin`: calls `export` of `plugin` with `input` and answers its output.
/// The target must be in the manifest's `[dependencies]` (`FO_EXTENSION_NOT_DECLARED`
/// otherwise); needs `forge.call_plugin` in `syscalls`. A failure of the callee comes
/// back with the code the host gives it.
pub fn call_plugin(plugin: &str, export: &str, input: &[u8]) -> Result<Vec<u8>> {
    let request = Request::new().field(plugin.as_bytes()).field(export.as_bytes()).rest(input).finish()?;
    raw::call(raw::call_plugin, &request)
}

/// `forge.register_extension`: registers this plugin's `export` as an implementation of
/// the extension point `point` (`FO_EXTENSION_UNKNOWN_POINT` when nobody offers it).
/// Needs nothing.
pub fn register_extension(point: &str, export: &str) -> Result<()> {
    let request = Request::new().field(point.as_bytes()).field(export.as_bytes()).finish()?;
    raw::empty("forge.register_extension", raw::call(raw::register_extension, &request)?)
}
