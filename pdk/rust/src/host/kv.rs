//! `forge.kv_*`: the plugin's durable key-value store (abi.md §14). Keys are 1-512 bytes
//! of UTF-8 without control characters; values are any bytes. Each call needs its name
//! in the manifest's `syscalls` (or `forge.*`).

use super::raw;
use crate::codec::{Reader, Request};
use crate::error::{codes, Error, Result};

/// `forge.kv_get`: the value under `key` (`FO_SYSCALL_KV_NOT_FOUND` when absent).
pub fn kv_get(key: &str) -> Result<Vec<u8>> {
    raw::call(raw::kv_get, key.as_bytes())
}

/// `forge.kv_set`: stores `value` under `key`; on disk when it returns
/// (`FO_SYSCALL_KV_VALUE_TOO_LARGE`, `FO_SYSCALL_KV_QUOTA_EXCEEDED`, ...).
pub fn kv_set(key: &str, value: &[u8]) -> Result<()> {
    let request = Request::new().field(key.as_bytes()).rest(value).finish()?;
    raw::empty("forge.kv_set", raw::call(raw::kv_set, &request)?)
}

/// `forge.kv_delete`: removes `key`; true when it was there.
pub fn kv_delete(key: &str) -> Result<bool> {
    match raw::call(raw::kv_delete, key.as_bytes())?.as_slice() {
        [0] => Ok(false),
        [1] => Ok(true),
        other => Err(Error::new(codes::BAD_RESPONSE, format!("forge.kv_delete answered {} bytes, expected one byte 0 or 1", other.len()))),
    }
}

/// One page of `forge.kv_list`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KvPage {
    /// The keys on this page, in byte order.
    pub keys: Vec<String>,
    /// Pass it back for the next page; empty when the listing is complete.
    pub cursor: Vec<u8>,
}

/// `forge.kv_list`: up to `limit` keys (0: the host's maximum, 1000) starting with
/// `prefix` (empty: every key), after `cursor` (empty: from the start).
pub fn kv_list(limit: u32, prefix: &str, cursor: &[u8]) -> Result<KvPage> {
    let request = Request::new().u32(limit).field(prefix.as_bytes()).rest(cursor).finish()?;
    let answer = raw::call(raw::kv_list, &request)?;
    // The whole layout is checked before anything is returned.
    let mut reader = Reader::new(&answer, "forge.kv_list");
    let count = reader.u32()? as usize;
    // Each key takes at least 4 bytes: a count past that cannot be honest.
    if count > answer.len() / 4 {
        return Err(Error::new(codes::BAD_RESPONSE, format!("forge.kv_list announced {count} keys in {} bytes", answer.len())));
    }
    let mut keys = Vec::with_capacity(count);
    for _ in 0..count {
        keys.push(reader.text()?);
    }
    let cursor = reader.field()?.to_vec();
    reader.end()?;
    Ok(KvPage { keys, cursor })
}
