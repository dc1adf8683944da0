//! Panics. On wasm32 a Rust panic cannot unwind (rustc builds it with `panic=abort`): the
//! module traps, the host reports `FO_ABI_GUEST_TRAP`, discards the instance and marks the
//! plugin Failed (abi.md §8). The hook installed here first sends the panic's message and
//! location to `forge.log` (level error), so the operator sees why; std's default hook
//! would write to a stderr the host does not show.

use std::panic::{self, PanicInfo};
use std::sync::atomic::{AtomicBool, Ordering};

static INSTALLED: AtomicBool = AtomicBool::new(false);

/// Installs the hook once (every export and lifecycle step calls this first; idempotent).
pub fn install() {
    if !INSTALLED.swap(true, Ordering::Relaxed) {
        panic::set_hook(Box::new(report));
    }
}

fn report(info: &PanicInfo<'_>) {
    let payload = info.payload();
    let message = payload.downcast_ref::<&str>().copied().or_else(|| payload.downcast_ref::<String>().map(String::as_str)).unwrap_or("(no message)");
    let place = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
    // A panic inside forge_alloc would make this a re-entrant host call; the host
    // refuses it and the instance is poisoned either way.
    let _ = crate::host::log(crate::host::Level::Error, &format!("panicked{place}: {message}"));
}
