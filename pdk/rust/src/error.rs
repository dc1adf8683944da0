//! Errors: what every host call and callable returns on failure.
//!
//! An [`Error`] is a code and a message, exactly what a forge/1 error payload carries
//! (`CODE "\n" MESSAGE`, docs/reference/abi.md §5). Host refusals keep the host's code
//! (`FO_SYSCALL_KV_NOT_FOUND`, `FO_ABI_HOST_DENIED`, ...); the PDK's own codes start with
//! `PDK_` (listed in [`codes`]); a plugin's codes are its own.

use std::fmt;

/// The longest error code the host accepts: 64 bytes of `A-Z a-z 0-9 _ . : -`.
pub const CODE_MAX: usize = 64;
/// Bytes of message an error payload carries (cut at a character boundary).
pub const MESSAGE_MAX: usize = 4096;

/// Codes the PDK answers itself, and the host's codes a plugin most often tests for.
pub mod codes {
    /// The allocator failed, or the host could not allocate its answer in guest memory.
    pub const OUT_OF_MEMORY: &str = "PDK_OUT_OF_MEMORY";
    /// A request or output would pass 2^30 - 1 bytes, or a writer's limit.
    pub const TOO_LARGE: &str = "PDK_TOO_LARGE";
    /// The host's answer does not have the layout abi.md documents.
    pub const BAD_RESPONSE: &str = "PDK_BAD_RESPONSE";
    /// Bytes that should be JSON are not (the message says where and why).
    pub const BAD_JSON: &str = "PDK_BAD_JSON";
    /// JSON nested deeper than the parser's or writer's limit.
    pub const JSON_TOO_DEEP: &str = "PDK_JSON_TOO_DEEP";
    /// Bytes that should be UTF-8 text are not.
    pub const BAD_UTF8: &str = "PDK_BAD_UTF8";
    /// The operator's policy refused a host call.
    pub const HOST_DENIED: &str = "FO_ABI_HOST_DENIED";
    /// `kv_get` of a key that is not stored.
    pub const KV_NOT_FOUND: &str = "FO_SYSCALL_KV_NOT_FOUND";
    /// `config_get` of a key the operator did not set.
    pub const CONFIG_NOT_FOUND: &str = "FO_SYSCALL_CONFIG_NOT_FOUND";
    /// `file_read` of a file that does not exist.
    pub const FILE_NOT_FOUND: &str = "FO_SYSCALL_FILE_NOT_FOUND";
}

/// A failure with a code and a message; returned from a callable, it reaches the
/// caller as `FO_ABI_GUEST_ERROR` with `details.guestCode` and `details.guestMessage`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    code: String,
    message: String,
}

/// The PDK's result type.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An error with your own code (1-64 of `A-Z a-z 0-9 _ . : -`; the host refuses
    /// others with `FO_ABI_BAD_ERROR_PAYLOAD`) and a message (cut at 4096 bytes).
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Error {
        Error { code: code.into(), message: message.into() }
    }

    /// The code: the host's (`FO_...`), the PDK's (`PDK_...`) or yours.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The message (may be empty).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// True when the code is `code`.
    pub fn is(&self, code: &str) -> bool {
        self.code == code
    }

    /// The error payload `CODE "\n" MESSAGE` (abi.md §5). A code over 64 bytes is cut to
    /// 65, still too long, so the host refuses it rather than receive a huge code.
    pub(crate) fn payload(&self) -> Vec<u8> {
        let code = &self.code.as_bytes()[..self.code.len().min(CODE_MAX + 1)];
        let message = cut(&self.message, MESSAGE_MAX);
        let mut out = Vec::new();
        if out.try_reserve_exact(code.len() + 1 + message.len()).is_err() {
            return out; // empty: the caller sends an error without a payload
        }
        out.extend_from_slice(code);
        out.push(b'\n');
        out.extend_from_slice(message.as_bytes());
        out
    }

    /// Decodes an error payload from the host (abi.md §5); ill-formed UTF-8 becomes U+FFFD.
    pub(crate) fn from_payload(bytes: &[u8]) -> Error {
        let split = bytes.iter().position(|&b| b == b'\n').unwrap_or(bytes.len());
        let message = if split < bytes.len() { &bytes[split + 1..] } else { &[][..] };
        Error::new(String::from_utf8_lossy(&bytes[..split]), String::from_utf8_lossy(message))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.message.is_empty() {
            f.write_str(&self.code)
        } else {
            write!(f, "{}: {}", self.code, self.message)
        }
    }
}

impl std::error::Error for Error {}

/// The longest prefix of `s` of at most `max` bytes that ends at a character boundary.
pub(crate) fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The input as UTF-8 text, or `PDK_BAD_UTF8` naming the first bad byte.
pub fn text(input: &[u8]) -> Result<&str> {
    std::str::from_utf8(input).map_err(|e| Error::new(codes::BAD_UTF8, format!("expected UTF-8 text, found an ill-formed sequence at byte {}", e.valid_up_to())))
}
