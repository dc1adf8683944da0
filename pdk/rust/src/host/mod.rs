//! Typed wrappers for every `forge.*` host call (abi.md §6 and §14). Each builds its
//! request, calls the import, and returns the result this module then owns, or the
//! host's refusal as an [`Error`] with the host's code (`FO_ABI_HOST_DENIED` when the
//! operator's policy refuses; each call's own codes are in abi.md §14).

mod files;
mod http;
mod kv;
mod plugins;
pub mod raw;

pub use files::{file_read, file_write, FileMode};
pub use http::{http_request, HttpRequest, HttpResponse};
pub use kv::{kv_delete, kv_get, kv_list, kv_set, KvPage};
pub use plugins::{call_plugin, register_extension};

use crate::codec::Request;
use crate::error::{codes, Error, Result};

/// A `forge.log` level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Finest detail.
    Trace = 0,
    /// Diagnostics.
    Debug = 1,
    /// Normal events.
    Info = 2,
    /// Something unexpected the plugin handled.
    Warn = 3,
    /// A failure.
    Error = 4,
}

/// `forge.log`: one record in the host's log (message at most 16 KiB:
/// `FO_ABI_INPUT_TOO_LARGE` beyond; `FO_SYSCALL_RATE_LIMITED` over the rate). Needs nothing.
pub fn log(level: Level, message: &str) -> Result<()> {
    let request = Request::new().byte(level as u8).rest(message.as_bytes()).finish()?;
    raw::empty("forge.log", raw::call(raw::log, &request)?)
}

/// `forge.config_get`: the operator's value for `key` (`FO_SYSCALL_CONFIG_NOT_FOUND`
/// when none). Needs nothing.
pub fn config_get(key: &str) -> Result<String> {
    let value = raw::call(raw::config_get, key.as_bytes())?;
    String::from_utf8(value).map_err(|_| Error::new(codes::BAD_RESPONSE, "forge.config_get answered a value that is not UTF-8"))
}

/// The two clocks of `forge.time_now`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Time {
    /// Nanoseconds since the Unix epoch (millisecond resolution).
    pub wall_ns: u64,
    /// Nanoseconds since an arbitrary origin; never decreases while the host runs.
    pub monotonic_ns: u64,
}

/// `forge.time_now`. Needs nothing.
pub fn time_now() -> Result<Time> {
    let answer = raw::call(raw::time_now, &[])?;
    if answer.len() != 16 {
        return Err(Error::new(codes::BAD_RESPONSE, format!("forge.time_now answered {} bytes, expected 16", answer.len())));
    }
    let word = |at: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&answer[at..at + 8]);
        u64::from_le_bytes(b)
    };
    Ok(Time { wall_ns: word(0), monotonic_ns: word(8) })
}

/// `forge.random_get`: `count` bytes from the host's secure generator (at most 64 KiB:
/// `FO_SYSCALL_PAYLOAD_TOO_LARGE` beyond). Needs nothing.
pub fn random_bytes(count: u32) -> Result<Vec<u8>> {
    let answer = raw::call(raw::random_get, &count.to_le_bytes())?;
    if answer.len() != count as usize {
        return Err(Error::new(codes::BAD_RESPONSE, format!("forge.random_get answered {} bytes, expected {count}", answer.len())));
    }
    Ok(answer)
}

/// Fills `dst` with secure random bytes (at most 64 KiB).
pub fn random_fill(dst: &mut [u8]) -> Result<()> {
    let count = u32::try_from(dst.len()).map_err(|_| Error::new(codes::TOO_LARGE, "a random request counts at most 2^32 - 1 bytes"))?;
    dst.copy_from_slice(&random_bytes(count)?);
    Ok(())
}

/// `forge.emit_event`: tells the host's listeners (name 1-128 of `a-z 0-9 . _ -`,
/// payload at most 64 KiB). Needs `forge.emit_event` in `syscalls`.
pub fn emit_event(name: &str, payload: &[u8]) -> Result<()> {
    let request = Request::new().field(name.as_bytes()).rest(payload).finish()?;
    raw::empty("forge.emit_event", raw::call(raw::emit_event, &request)?)
}
