//! A recursive-descent JSON parser whose recursion is bounded by the nesting limit, so a
//! hostile document cannot exhaust the stack; every refusal names the byte offset.

use super::{Number, Value, MAX_DEPTH};
use crate::error::{codes, Error, Result};
use std::collections::BTreeMap;

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    max_depth: usize,
}

/// Parses one JSON document with nesting at most [`MAX_DEPTH`].
/// @throws `PDK_BAD_JSON` (not JSON, with the offset), `PDK_JSON_TOO_DEEP`
pub fn parse(bytes: &[u8]) -> Result<Value> {
    parse_with_depth(bytes, MAX_DEPTH)
}

/// Parses one JSON document with nesting at most `max_depth` arrays and objects.
pub fn parse_with_depth(bytes: &[u8], max_depth: usize) -> Result<Value> {
    let text = std::str::from_utf8(bytes).map_err(|e| Error::new(codes::BAD_JSON, format!("at byte {}: expected UTF-8 text, found an ill-formed sequence", e.valid_up_to())))?;
    let mut parser = Parser { text, bytes, pos: 0, max_depth };
    let value = parser.value(0)?;
    parser.space();
    if parser.pos < bytes.len() {
        return Err(parser.fail("the end of the document"));
    }
    Ok(value)
}

impl<'a> Parser<'a> {
    fn fail(&self, expected: &str) -> Error {
        let found = match self.text[self.pos..].chars().next() {
            None => "the end of the input".to_string(),
            Some(c) if c.is_control() => format!("U+{:04X}", c as u32),
            Some(c) => format!("'{c}'"),
        };
        Error::new(codes::BAD_JSON, format!("at byte {}: expected {expected}, found {found}", self.pos))
    }

    fn space(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.bytes.get(self.pos) == Some(&byte) {
            self.pos += 1;
            return true;
        }
        false
    }

    fn literal(&mut self, word: &str, value: Value) -> Result<Value> {
        if self.text[self.pos..].starts_with(word) {
            self.pos += word.len();
            return Ok(value);
        }
        Err(self.fail("a JSON value"))
    }

    fn value(&mut self, depth: usize) -> Result<Value> {
        self.space();
        match self.bytes.get(self.pos) {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => Ok(Value::String(self.string()?)),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.fail("a JSON value")),
        }
    }

    fn nest(&self, depth: usize) -> Result<()> {
        if depth > self.max_depth {
            return Err(Error::new(codes::JSON_TOO_DEEP, format!("at byte {}: JSON nests at most {} arrays and objects", self.pos, self.max_depth)));
        }
        Ok(())
    }

    fn array(&mut self, depth: usize) -> Result<Value> {
        self.nest(depth)?;
        self.pos += 1;
        let mut items = Vec::new();
        self.space();
        if self.eat(b']') {
            return Ok(Value::Array(items));
        }
        loop {
            items.push(self.value(depth)?);
            self.space();
            if self.eat(b']') {
                return Ok(Value::Array(items));
            }
            if !self.eat(b',') {
                return Err(self.fail("',' or ']'"));
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value> {
        self.nest(depth)?;
        self.pos += 1;
        let mut members: Vec<(String, Value)> = Vec::new();
        let mut index: BTreeMap<String, usize> = BTreeMap::new(); // duplicates in O(log n)
        self.space();
        if self.eat(b'}') {
            return Ok(Value::Object(members));
        }
        loop {
            self.space();
            if self.bytes.get(self.pos) != Some(&b'"') {
                return Err(self.fail("a string key"));
            }
            let key = self.string()?;
            self.space();
            if !self.eat(b':') {
                return Err(self.fail("':'"));
            }
            let value = self.value(depth)?;
            match index.get(&key) {
                Some(&at) => members[at].1 = value,
                None => {
                    index.insert(key.clone(), members.len());
                    members.push((key, value));
                }
            }
            self.space();
            if self.eat(b'}') {
                return Ok(Value::Object(members));
            }
            if !self.eat(b',') {
                return Err(self.fail("',' or '}'"));
            }
        }
    }

    fn string(&mut self) -> Result<String> {
        self.pos += 1; // the opening quote
        let mut out = String::new();
        let mut run = self.pos;
        loop {
            match self.bytes.get(self.pos) {
                None => return Err(self.fail("'\"' closing the string")),
                Some(b'"') => {
                    out.push_str(&self.text[run..self.pos]);
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    out.push_str(&self.text[run..self.pos]);
                    self.pos += 1;
                    self.escape(&mut out)?;
                    run = self.pos;
                }
                Some(&b) if b < 0x20 => return Err(self.fail("an escaped control character")),
                Some(_) => self.pos += 1,
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<()> {
        let c = match self.bytes.get(self.pos) {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => return self.unicode(out),
            _ => return Err(self.fail("an escape: one of \" \\ / b f n r t u")),
        };
        self.pos += 1;
        out.push(c);
        Ok(())
    }

    /// `\uXXXX`, with a surrogate pair as one character; a lone surrogate is U+FFFD.
    fn unicode(&mut self, out: &mut String) -> Result<()> {
        self.pos += 1; // the 'u'
        let high = self.hex4()?;
        if (0xD800..0xDC00).contains(&high) && self.text[self.pos..].starts_with("\\u") {
            let save = self.pos;
            self.pos += 2;
            let low = self.hex4()?;
            if (0xDC00..0xE000).contains(&low) {
                out.push(char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)).unwrap_or('\u{FFFD}'));
                return Ok(());
            }
            self.pos = save; // not a pair: the second escape stands on its own
        }
        out.push(char::from_u32(high).unwrap_or('\u{FFFD}'));
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32> {
        let digits = self.bytes.get(self.pos..self.pos + 4).ok_or_else(|| self.fail("four hex digits"))?;
        let mut v = 0u32;
        for &d in digits {
            let n = (d as char).to_digit(16).ok_or_else(|| self.fail("four hex digits"))?;
            v = v * 16 + n;
        }
        self.pos += 4;
        Ok(v)
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<Value> {
        let start = self.pos;
        self.eat(b'-');
        if self.eat(b'0') {
            if let Some(b'0'..=b'9') = self.bytes.get(self.pos) {
                return Err(self.fail("'.', 'e' or the end of the number after a leading 0"));
            }
        } else if self.digits() == 0 {
            return Err(self.fail("a digit"));
        }
        let mut integer = true;
        if self.eat(b'.') {
            integer = false;
            if self.digits() == 0 {
                return Err(self.fail("a digit after '.'"));
            }
        }
        if self.eat(b'e') || self.eat(b'E') {
            integer = false;
            let _ = self.eat(b'+') || self.eat(b'-');
            if self.digits() == 0 {
                return Err(self.fail("a digit in the exponent"));
            }
        }
        let text = &self.text[start..self.pos];
        if integer {
            if let Ok(v) = text.parse::<i64>() {
                return Ok(Value::Number(Number::Int(v)));
            }
            if let Ok(v) = text.parse::<u64>() {
                return Ok(Value::Number(Number::UInt(v)));
            }
        }
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(Value::Number(Number::Float(v))),
            _ => {
                self.pos = start;
                Err(self.fail("a number within the range of f64"))
            }
        }
    }
}
