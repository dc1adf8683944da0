//! The `forge` import module (abi.md §6) and the settling of its packed answers. Each
//! import is declared here once; the linker keeps only those a plugin calls, so a module
//! imports exactly the host calls it uses.

use crate::abi::MAX_REGION;
use crate::error::{codes, Error, Result};

#[link(wasm_import_module = "forge")]
extern "C" {
    pub(crate) fn log(ptr: i32, len: i32) -> i64;
    pub(crate) fn config_get(ptr: i32, len: i32) -> i64;
    pub(crate) fn kv_get(ptr: i32, len: i32) -> i64;
    pub(crate) fn kv_set(ptr: i32, len: i32) -> i64;
    pub(crate) fn kv_delete(ptr: i32, len: i32) -> i64;
    pub(crate) fn kv_list(ptr: i32, len: i32) -> i64;
    pub(crate) fn http_request(ptr: i32, len: i32) -> i64;
    pub(crate) fn file_read(ptr: i32, len: i32) -> i64;
    pub(crate) fn file_write(ptr: i32, len: i32) -> i64;
    pub(crate) fn emit_event(ptr: i32, len: i32) -> i64;
    pub(crate) fn time_now(ptr: i32, len: i32) -> i64;
    pub(crate) fn random_get(ptr: i32, len: i32) -> i64;
    pub(crate) fn call_plugin(ptr: i32, len: i32) -> i64;
    pub(crate) fn register_extension(ptr: i32, len: i32) -> i64;
}

/// An imported host function: `(ptr, len) -> packed result`.
pub type HostFn = unsafe extern "C" fn(i32, i32) -> i64;

/// Calls `import` with `request` and settles the answer: the result region as a `Vec`
/// this module owns, or the host's error payload as an [`Error`] (freed either way).
///
/// Public so a plugin can wrap a host call an embedder registered (`forge.<name>`):
/// declare the import with `#[link(wasm_import_module = "forge")]` and pass it here.
pub fn call(import: HostFn, request: &[u8]) -> Result<Vec<u8>> {
    if request.len() > MAX_REGION {
        return Err(Error::new(codes::TOO_LARGE, format!("a request holds at most {MAX_REGION} bytes, found {}", request.len())));
    }
    // An empty request passes address 0, as abi.md's examples do; it names no bytes.
    let ptr = if request.is_empty() { 0 } else { request.as_ptr() as usize as i32 };
    // SAFETY: the host reads [ptr, ptr + len) of this module's memory, which `request` holds.
    let answer = unsafe { import(ptr, request.len() as i32) };
    // SAFETY: a forge/1 host answers a region it allocated through forge_alloc.
    unsafe { settle(answer) }
}

/// Takes ownership of a host call's packed answer.
///
/// # Safety
/// `answer` must come from a `forge.*` import: a region allocated through `forge_alloc`.
pub unsafe fn settle(answer: i64) -> Result<Vec<u8>> {
    let answer = answer as u64;
    let ptr = (answer >> 32) as usize;
    let len = (answer & MAX_REGION as u64) as usize;
    let region = if len == 0 || ptr == 0 { Vec::new() } else { Vec::from_raw_parts(ptr as *mut u8, len, len) };
    if answer & 0x8000_0000 == 0 {
        return Ok(region);
    }
    if region.is_empty() {
        return Err(Error::new(codes::OUT_OF_MEMORY, "the host could not allocate its error payload in guest memory"));
    }
    Err(Error::from_payload(&region))
}

/// The answer must be empty (calls whose result is "empty on success").
pub(crate) fn empty(what: &str, answer: Vec<u8>) -> Result<()> {
    if answer.is_empty() {
        Ok(())
    } else {
        Err(Error::new(codes::BAD_RESPONSE, format!("{what} answered {} bytes where none were expected", answer.len())))
    }
}
