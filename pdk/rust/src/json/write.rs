//! Compact JSON text from a [`Value`]; always valid JSON or an error.

use super::{Number, Value, MAX_DEPTH};
use crate::abi::MAX_REGION;
use crate::error::{codes, Error, Result};
use std::fmt::Write as _;

struct Out {
    text: String,
    limit: usize,
}

impl Out {
    fn push(&mut self, s: &str) -> Result<()> {
        if s.len() > self.limit - self.text.len() {
            return Err(Error::new(codes::TOO_LARGE, format!("the JSON text would pass its limit of {} bytes", self.limit)));
        }
        self.text.try_reserve(s.len()).map_err(|_| Error::new(codes::OUT_OF_MEMORY, "the allocator failed while writing JSON"))?;
        self.text.push_str(s);
        Ok(())
    }

    fn string(&mut self, s: &str) -> Result<()> {
        self.push("\"")?;
        let mut run = 0; // start of the bytes that need no escape, written in one go
        for (i, c) in s.char_indices() {
            let escaped = match c {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                c if (c as u32) < 0x20 => "",
                _ => continue,
            };
            self.push(&s[run..i])?;
            run = i + 1;
            if escaped.is_empty() {
                self.push(&format!("\\u{:04x}", c as u32))?;
            } else {
                self.push(escaped)?;
            }
        }
        self.push(&s[run..])?;
        self.push("\"")
    }

    fn value(&mut self, value: &Value, depth: usize) -> Result<()> {
        match value {
            Value::Null => self.push("null"),
            Value::Bool(b) => self.push(if *b { "true" } else { "false" }),
            Value::Number(n) => self.number(*n),
            Value::String(s) => self.string(s),
            Value::Array(items) => {
                self.open(depth)?;
                self.push("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.push(",")?;
                    }
                    self.value(item, depth + 1)?;
                }
                self.push("]")
            }
            Value::Object(members) => {
                self.open(depth)?;
                self.push("{")?;
                for (i, (key, item)) in members.iter().enumerate() {
                    if i > 0 {
                        self.push(",")?;
                    }
                    self.string(key)?;
                    self.push(":")?;
                    self.value(item, depth + 1)?;
                }
                self.push("}")
            }
        }
    }

    fn open(&self, depth: usize) -> Result<()> {
        if depth >= MAX_DEPTH {
            return Err(Error::new(codes::JSON_TOO_DEEP, format!("JSON nests at most {MAX_DEPTH} arrays and objects")));
        }
        Ok(())
    }

    fn number(&mut self, n: Number) -> Result<()> {
        let mut digits = String::new();
        let _ = match n {
            Number::Int(v) => write!(digits, "{v}"),
            Number::UInt(v) => write!(digits, "{v}"),
            // JSON has no NaN or infinity; JavaScript writes them as null too.
            Number::Float(v) if !v.is_finite() => write!(digits, "null"),
            Number::Float(v) => write!(digits, "{v}"),
        };
        self.push(&digits)
    }
}

/// `value` as JSON text of at most `limit` bytes (`PDK_TOO_LARGE` beyond;
/// `PDK_JSON_TOO_DEEP` past [`MAX_DEPTH`] levels).
pub fn to_vec_limited(value: &Value, limit: usize) -> Result<Vec<u8>> {
    let mut out = Out { text: String::new(), limit: limit.min(MAX_REGION) };
    out.value(value, 0)?;
    Ok(out.text.into_bytes())
}

/// `value` as JSON text (at most 2^30 - 1 bytes).
pub fn to_vec(value: &Value) -> Result<Vec<u8>> {
    to_vec_limited(value, MAX_REGION)
}

/// `value` as a JSON string.
pub fn to_string(value: &Value) -> Result<String> {
    let mut out = Out { text: String::new(), limit: MAX_REGION };
    out.value(value, 0)?;
    Ok(out.text)
}
