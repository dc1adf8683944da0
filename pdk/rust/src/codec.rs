//! The host-call encoding (abi.md §14): `u32` little-endian, `field` (a `u32` length then
//! the bytes) and `rest`. [`Request`] builds a request, [`Reader`] walks an answer with
//! every read bounds-checked, so a malformed answer is `PDK_BAD_RESPONSE`, never a panic.

use crate::abi::MAX_REGION;
use crate::error::{codes, Error, Result};

/// A request under construction; the first failure sticks and [`Request::finish`] returns it.
#[derive(Debug, Default)]
pub struct Request {
    bytes: Vec<u8>,
    failure: Option<Error>,
}

impl Request {
    /// An empty request.
    pub fn new() -> Request {
        Request::default()
    }

    fn put(mut self, piece: &[u8]) -> Request {
        if self.failure.is_some() {
            return self;
        }
        if piece.len() > MAX_REGION - self.bytes.len() {
            self.failure = Some(Error::new(codes::TOO_LARGE, format!("a request holds at most {MAX_REGION} bytes")));
        } else if self.bytes.try_reserve(piece.len()).is_err() {
            self.failure = Some(Error::new(codes::OUT_OF_MEMORY, "the allocator failed while building a request"));
        } else {
            self.bytes.extend_from_slice(piece);
        }
        self
    }

    /// Appends a `u32`, little-endian.
    pub fn u32(self, value: u32) -> Request {
        self.put(&value.to_le_bytes())
    }

    /// Appends one byte.
    pub fn byte(self, value: u8) -> Request {
        self.put(&[value])
    }

    /// Appends a `field`: the length as a `u32`, then the bytes.
    pub fn field(self, bytes: &[u8]) -> Request {
        if bytes.len() > MAX_REGION {
            return self.fail_too_large();
        }
        self.u32(bytes.len() as u32).put(bytes)
    }

    /// Appends bytes as they are (the `rest` piece).
    pub fn rest(self, bytes: &[u8]) -> Request {
        self.put(bytes)
    }

    fn fail_too_large(mut self) -> Request {
        self.failure.get_or_insert_with(|| Error::new(codes::TOO_LARGE, format!("a field holds at most {MAX_REGION} bytes")));
        self
    }

    /// The bytes, or the first failure (`PDK_TOO_LARGE`, `PDK_OUT_OF_MEMORY`).
    pub fn finish(self) -> Result<Vec<u8>> {
        match self.failure {
            Some(error) => Err(error),
            None => Ok(self.bytes),
        }
    }
}

/// Bounds-checked reading of a host answer; `what` names the call in error messages.
#[derive(Debug)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `bytes`.
    pub fn new(bytes: &'a [u8], what: &'static str) -> Reader<'a> {
        Reader { bytes, pos: 0, what }
    }

    fn malformed(&self, expected: &str) -> Error {
        Error::new(codes::BAD_RESPONSE, format!("{} answered a malformed result: expected {expected} at byte {} of {}", self.what, self.pos, self.bytes.len()))
    }

    /// The next `u32`. @throws `PDK_BAD_RESPONSE` when fewer than 4 bytes are left.
    pub fn u32(&mut self) -> Result<u32> {
        let end = self.pos + 4;
        if end > self.bytes.len() {
            return Err(self.malformed("a u32"));
        }
        let mut word = [0u8; 4];
        word.copy_from_slice(&self.bytes[self.pos..end]);
        self.pos = end;
        Ok(u32::from_le_bytes(word))
    }

    /// The next `field`'s bytes. @throws `PDK_BAD_RESPONSE` when it runs past the end.
    pub fn field(&mut self) -> Result<&'a [u8]> {
        let start = self.pos;
        let len = self.u32()? as usize;
        if len > self.bytes.len() - self.pos {
            self.pos = start;
            return Err(self.malformed("a field within the answer"));
        }
        let bytes = &self.bytes[self.pos..self.pos + len];
        self.pos += len;
        Ok(bytes)
    }

    /// The next `field` as UTF-8 text. @throws `PDK_BAD_RESPONSE` when it is not.
    pub fn text(&mut self) -> Result<String> {
        let bytes = self.field()?;
        String::from_utf8(bytes.to_vec()).map_err(|_| self.malformed("UTF-8 text"))
    }

    /// The bytes left; the reader is then at its end.
    pub fn rest(&mut self) -> &'a [u8] {
        let rest = &self.bytes[self.pos..];
        self.pos = self.bytes.len();
        rest
    }

    /// Succeeds only at the end of the answer.
    pub fn end(&self) -> Result<()> {
        if self.pos == self.bytes.len() {
            Ok(())
        } else {
            Err(self.malformed("the end"))
        }
    }
}
