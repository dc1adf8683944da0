//! A small JSON value type with a writer and a bounded-depth parser (serde is not
//! available to a plugin built with plain rustc).
//!
//! - [`parse`] accepts exactly RFC 8259 JSON: UTF-8, no trailing commas, comments or
//!   trailing bytes; nesting at most [`MAX_DEPTH`] (`PDK_JSON_TOO_DEEP`), every other
//!   refusal `PDK_BAD_JSON` with the byte offset. Integers that fit keep every digit
//!   (`i64`, then `u64`); other numbers are `f64`. A duplicate key keeps its first
//!   position and its last value, as JavaScript's `JSON.parse` does. Escaped lone
//!   surrogates become U+FFFD (a Rust string cannot hold them).
//! - [`to_vec`] writes compact JSON: strings escaped, non-finite floats as `null`,
//!   nesting at most [`MAX_DEPTH`]; [`to_vec_limited`] also bounds the size.

mod parse;
mod write;

pub use parse::{parse, parse_with_depth};
pub use write::{to_string, to_vec, to_vec_limited};

/// Nesting the parser and the writer accept by default.
pub const MAX_DEPTH: usize = 64;

/// A JSON number: integers keep every digit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Number {
    /// An integer in `i64`.
    Int(i64),
    /// A non-negative integer above `i64::MAX`.
    UInt(u64),
    /// Anything else.
    Float(f64),
}

impl Number {
    /// The number as an `f64` (large integers round).
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(v) => v as f64,
            Number::UInt(v) => v as f64,
            Number::Float(v) => v,
        }
    }
}

/// A JSON value. Objects keep their keys in order.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Value>),
    /// An object: its members in order, keys unique when parsed.
    Object(Vec<(String, Value)>),
}

impl Value {
    /// An object from `(key, value)` pairs.
    pub fn object<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Object(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// The member `key` of an object (`None` for other values or a missing key).
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The text of a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The value of a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// An integer that fits `i64` (a float with no fraction counts).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(Number::Int(v)) => Some(*v),
            Value::Number(Number::Float(f)) if f.fract() == 0.0 && *f >= -9.223_372_036_854_776e18 && *f < 9.223_372_036_854_776e18 => Some(*f as i64),
            _ => None,
        }
    }

    /// Any number, as `f64`.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(n.as_f64()),
            _ => None,
        }
    }

    /// The items of an array.
    pub fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The members of an object, in order.
    pub fn as_object(&self) -> Option<&Vec<(String, Value)>> {
        match self {
            Value::Object(members) => Some(members),
            _ => None,
        }
    }

    /// True for `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// `null`, `boolean`, `number`, `string`, `array` or `object` (for messages).
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Bool(v)
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Number(Number::Int(v))
    }
}
impl From<i32> for Value {
    fn from(v: i32) -> Value {
        Value::Number(Number::Int(v.into()))
    }
}
impl From<u32> for Value {
    fn from(v: u32) -> Value {
        Value::Number(Number::Int(v.into()))
    }
}
impl From<u64> for Value {
    fn from(v: u64) -> Value {
        match i64::try_from(v) {
            Ok(small) => Value::Number(Number::Int(small)),
            Err(_) => Value::Number(Number::UInt(v)),
        }
    }
}
impl From<usize> for Value {
    fn from(v: usize) -> Value {
        Value::from(v as u64)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Number(Number::Float(v))
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::String(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::String(v)
    }
}
impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Value {
        Value::Array(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}
