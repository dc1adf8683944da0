//! `forge.file_read` and `forge.file_write`: whole files inside the volumes the operator
//! mapped (abi.md §14). Paths are the guest's canonical absolute paths (`/data/out.json`).

use super::raw;
use crate::codec::Request;
use crate::error::Result;

/// How `file_write` treats an existing file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileMode {
    /// Written beside the target, synced, renamed over it: readers see old or new.
    Replace = 0,
    /// Appended; a missing file is created.
    Append = 1,
    /// Created; `FO_SYSCALL_FILE_EXISTS` when the file exists.
    Create = 2,
}

/// `forge.file_read`: the whole file (at most 16 MiB). Needs `filesystem` `read` and a volume.
pub fn file_read(path: &str) -> Result<Vec<u8>> {
    raw::call(raw::file_read, path.as_bytes())
}

/// `forge.file_write` (at most 16 MiB). Needs `filesystem` `write` and an `rw` volume.
pub fn file_write(path: &str, mode: FileMode, data: &[u8]) -> Result<()> {
    let request = Request::new().field(path.as_bytes()).u32(mode as u32).rest(data).finish()?;
    raw::empty("forge.file_write", raw::call(raw::file_write, &request)?)
}
