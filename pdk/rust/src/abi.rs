//! The plugin side of forge/1 (docs/reference/abi.md §2-§5, §7): the allocator exports,
//! packed results, and the adapters behind [`export!`](crate::export) and
//! [`lifecycle!`](crate::lifecycle).
//!
//! Every region that crosses the boundary is a boxed byte slice with the layout
//! `(len, 1)`: the host asks for it with `forge_alloc(len)` and hands it back with
//! `forge_free(ptr, len)`, so the global allocator always sees the layout it gave out.

use std::alloc::{alloc, dealloc, Layout};

use crate::error::{codes, Error, Result};

/// The largest region a packed result can name: 2^30 - 1 bytes (abi.md §3).
pub const MAX_REGION: usize = 0x3FFF_FFFF;
const ERROR_FLAG: u64 = 0x8000_0000;
const KEEP_FLAG: u64 = 0x4000_0000;

/// `forge_alloc(len)`: `len` bytes for the host, or 0 when out of memory. Never panics
/// and never calls the host (abi.md §2 forbids both).
#[no_mangle]
pub extern "C" fn forge_alloc(len: i32) -> i32 {
    let len = len as u32 as usize;
    match Layout::from_size_align(len, 1) {
        // SAFETY: the layout has a non-zero size (the host never asks for 0; 0 is refused below).
        Ok(layout) if len > 0 => unsafe { alloc(layout) as usize as i32 },
        _ => 0,
    }
}

/// `forge_free(ptr, len)`: releases a region this module handed over, with its length.
///
/// # Safety
/// Called by the host only, with a region the guest handed over (abi.md §4).
#[no_mangle]
pub unsafe extern "C" fn forge_free(ptr: i32, len: i32) {
    let len = len as u32 as usize;
    if ptr == 0 || len == 0 {
        return;
    }
    if let Ok(layout) = Layout::from_size_align(len, 1) {
        dealloc(ptr as u32 as usize as *mut u8, layout);
    }
}

fn pack(ptr: usize, len: usize, flags: u64) -> i64 {
    (((ptr as u64) << 32) | flags | (len as u64 & MAX_REGION as u64)) as i64
}

/// Hands `bytes` to the host: it copies them, then frees them through `forge_free`.
fn hand_over(bytes: Vec<u8>, flags: u64) -> i64 {
    if bytes.is_empty() {
        return pack(0, 0, flags);
    }
    let boxed = bytes.into_boxed_slice(); // length == capacity: the layout forge_free rebuilds
    let len = boxed.len();
    pack(Box::into_raw(boxed) as *mut u8 as usize, len, flags)
}

/// What a callable answers on success.
#[derive(Debug)]
pub enum Output {
    /// No bytes.
    Empty,
    /// Bytes handed to the host, which frees them after copying.
    Owned(Vec<u8>),
    /// Bytes the plugin keeps (static data): the keep flag, nothing is freed.
    Kept(&'static [u8]),
}

/// Anything a callable may return inside `Ok`.
pub trait IntoOutput {
    /// The output this value stands for.
    fn into_output(self) -> Output;
}

impl IntoOutput for Output {
    fn into_output(self) -> Output {
        self
    }
}
impl IntoOutput for () {
    fn into_output(self) -> Output {
        Output::Empty
    }
}
impl IntoOutput for Vec<u8> {
    fn into_output(self) -> Output {
        Output::Owned(self)
    }
}
impl IntoOutput for String {
    fn into_output(self) -> Output {
        Output::Owned(self.into_bytes())
    }
}
impl IntoOutput for &'static [u8] {
    fn into_output(self) -> Output {
        Output::Kept(self)
    }
}
impl IntoOutput for &'static str {
    fn into_output(self) -> Output {
        Output::Kept(self.as_bytes())
    }
}

/// The packed result of an error: its payload handed over, or (when even that cannot be
/// allocated) an error without a payload.
pub(crate) fn error_result(error: &Error) -> i64 {
    hand_over(error.payload(), ERROR_FLAG)
}

fn output_result(output: Output) -> i64 {
    match output {
        Output::Empty => 0,
        Output::Owned(bytes) if bytes.len() > MAX_REGION => error_result(&too_large(bytes.len())),
        Output::Owned(bytes) => hand_over(bytes, 0),
        Output::Kept(bytes) if bytes.len() > MAX_REGION => error_result(&too_large(bytes.len())),
        Output::Kept(bytes) if bytes.is_empty() => 0,
        Output::Kept(bytes) => pack(bytes.as_ptr() as usize, bytes.len(), KEEP_FLAG),
    }
}

fn too_large(len: usize) -> Error {
    Error::new(codes::TOO_LARGE, format!("an output holds at most {MAX_REGION} bytes, found {len}"))
}

/// Runs a callable for the export `(ptr, len) -> i64` that [`export!`](crate::export)
/// writes. The input becomes a `Vec<u8>` the callable owns (abi.md §4: the input belongs
/// to the guest from the call on), so returning it changed is an in-place transform.
///
/// # Safety
/// `(ptr, len)` must be the input region the host allocated through `forge_alloc`.
#[doc(hidden)]
pub unsafe fn run<O: IntoOutput, F: FnOnce(Vec<u8>) -> Result<O>>(ptr: i32, len: i32, callable: F) -> i64 {
    crate::panic::install();
    let len = len as u32 as usize;
    let input = if len == 0 || ptr == 0 { Vec::new() } else { Vec::from_raw_parts(ptr as u32 as usize as *mut u8, len, len) };
    match callable(input) {
        Ok(output) => output_result(output.into_output()),
        Err(error) => error_result(&error),
    }
}

/// Runs a lifecycle step for [`lifecycle!`](crate::lifecycle): 0 on success; on failure
/// the error goes to `forge.log` (level error) and the step answers 1.
#[doc(hidden)]
pub fn run_lifecycle<F: FnOnce() -> Result<()>>(step: &str, f: F) -> i32 {
    crate::panic::install();
    match f() {
        Ok(()) => 0,
        Err(error) => {
            let _ = crate::host::log(crate::host::Level::Error, &format!("lifecycle step {step} failed: {error}"));
            1
        }
    }
}

/// Exports functions `fn(Vec<u8>) -> forge_pdk::Result<impl IntoOutput>` as forge/1
/// callables: `export!(render => render_markdown, "text.upper" => upper)`. The name is
/// an identifier or a string (any export name); the Rust function may share it.
#[macro_export]
macro_rules! export {
    ($($name:tt => $callable:path),+ $(,)?) => {
        $(const _: () = {
            #[export_name = $crate::__export_name!($name)]
            pub extern "C" fn export(ptr: i32, len: i32) -> i64 {
                // SAFETY: the host calls an export with the input region it allocated.
                unsafe { $crate::abi::run(ptr, len, $callable) }
            }
        };)+
    };
}

/// Exports functions `fn() -> forge_pdk::Result<()>` as lifecycle steps:
/// `lifecycle!(plugin_init => init)`; name them in plugin.toml's `[entry_points]`.
/// An `Err` fails the step (`FO_ABI_LIFECYCLE_FAILED`, status 1) and is logged.
#[macro_export]
macro_rules! lifecycle {
    ($($name:tt => $step:path),+ $(,)?) => {
        $(const _: () = {
            #[export_name = $crate::__export_name!($name)]
            pub extern "C" fn export() -> i32 {
                $crate::abi::run_lifecycle($crate::__export_name!($name), $step)
            }
        };)+
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __export_name {
    ($name:ident) => {
        stringify!($name)
    };
    ($name:literal) => {
        $name
    };
}
