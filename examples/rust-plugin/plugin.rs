//! rust-records: a ForgeOne plugin in Rust, built on the Rust PDK (pdk/rust).
//!
//!   query(JSON) -> JSON   {"records":[...], "where":[{"field":"a.b","op":">=","value":1}],
//!                         "sort":[{"field":"name","desc":true}], "select":["name"],
//!                         "limit":10} answers {"total":T,"count":N,"records":[...]}:
//!                         the records matching every condition (T of them), sorted
//!                         (stable; numbers by value, strings by bytes, null < bool <
//!                         number < string < array < object), cut to `limit` and reduced
//!                         to the `select`ed fields (dotted paths reach into objects).
//!   csv(text) -> JSON     RFC 4180 CSV with a header row to an array of objects whose
//!                         values are strings ("quoted, ""escaped"" fields", CRLF or LF).
//!   stats() -> JSON       {"queries":N,"total":T}: queries by this instance, and the total
//!                         across restarts, kept in the key-value store under "total".
//!   lifecycle             plugin_init logs that the plugin is ready.
//!
//! Its own codes: E_TOO_LARGE (input over 1 MiB), E_BAD_JSON (not JSON), E_TOO_DEEP
//! (nested over 32 levels), E_BAD_QUERY (the query's shape), E_BAD_CSV; host refusals
//! from stats keep the host's code (e.g. FO_ABI_HOST_DENIED).

use std::cell::Cell;
use std::cmp::Ordering;

use forge_pdk::host::{self, Level};
use forge_pdk::json::{self, Number, Value};
use forge_pdk::{codes, export, lifecycle, Error, Result};

const MAX_INPUT: usize = 1024 * 1024;
const MAX_DEPTH: usize = 32;

thread_local! {
    static QUERIES: Cell<u64> = Cell::new(0);
    static UNSAVED: Cell<u64> = Cell::new(0);
}

fn bad(message: impl Into<String>) -> Error {
    Error::new("E_BAD_QUERY", message)
}

fn check_size(input: &[u8], what: &str) -> Result<()> {
    if input.len() > MAX_INPUT {
        return Err(Error::new("E_TOO_LARGE", format!("{what} takes at most {MAX_INPUT} bytes, found {}", input.len())));
    }
    Ok(())
}

/// The document, with the PDK's refusals under this plugin's codes.
fn parse(input: &[u8]) -> Result<Value> {
    json::parse_with_depth(input, MAX_DEPTH).map_err(|e| {
        let code = if e.is(codes::JSON_TOO_DEEP) { "E_TOO_DEEP" } else { "E_BAD_JSON" };
        Error::new(code, e.message())
    })
}

/// The value at a dotted path; `null` when any step is missing.
fn lookup<'a>(record: &'a Value, path: &str) -> &'a Value {
    const NULL: &Value = &Value::Null;
    path.split('.').try_fold(record, |v, key| v.get(key)).unwrap_or(NULL)
}

fn rank(v: &Value) -> u8 {
    match v {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Number(_) => 2,
        Value::String(_) => 3,
        Value::Array(_) => 4,
        Value::Object(_) => 5,
    }
}

/// A total order: kinds by rank, then numbers by value, strings by bytes.
fn compare(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Number(x), Value::Number(y)) => compare_numbers(*x, *y),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        _ => rank(a).cmp(&rank(b)),
    }
}

fn compare_numbers(x: Number, y: Number) -> Ordering {
    match (x, y) {
        (Number::Int(a), Number::Int(b)) => a.cmp(&b),
        (Number::UInt(a), Number::UInt(b)) => a.cmp(&b),
        (Number::Int(_), Number::UInt(_)) => Ordering::Less, // UInt is above i64::MAX
        (Number::UInt(_), Number::Int(_)) => Ordering::Greater,
        _ => x.as_f64().total_cmp(&y.as_f64()),
    }
}

struct Condition {
    field: String,
    op: String,
    value: Value,
}

impl Condition {
    fn parse(v: &Value) -> Result<Condition> {
        let field = v.get("field").and_then(Value::as_str).ok_or_else(|| bad("each condition needs a string \"field\""))?;
        let op = v.get("op").and_then(Value::as_str).ok_or_else(|| bad("each condition needs a string \"op\""))?;
        if !["=", "!=", "<", "<=", ">", ">=", "contains"].contains(&op) {
            return Err(bad(format!("expected op =, !=, <, <=, >, >= or contains, found {op:?}")));
        }
        Ok(Condition { field: field.to_string(), op: op.to_string(), value: v.get("value").cloned().unwrap_or(Value::Null) })
    }

    fn holds(&self, record: &Value) -> bool {
        let found = lookup(record, &self.field);
        let order = compare(found, &self.value);
        match self.op.as_str() {
            "=" => order == Ordering::Equal,
            "!=" => order != Ordering::Equal,
            "<" => rank(found) == rank(&self.value) && order == Ordering::Less,
            "<=" => rank(found) == rank(&self.value) && order != Ordering::Greater,
            ">" => rank(found) == rank(&self.value) && order == Ordering::Greater,
            ">=" => rank(found) == rank(&self.value) && order != Ordering::Less,
            _ => match (found, &self.value) {
                (Value::String(s), Value::String(part)) => s.contains(part.as_str()),
                (Value::Array(items), wanted) => items.iter().any(|item| compare(item, wanted) == Ordering::Equal),
                _ => false,
            },
        }
    }
}

fn list<'a>(query: &'a Value, key: &str) -> Result<&'a [Value]> {
    match query.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(bad(format!("expected \"{key}\" to be an array, found {}", other.kind()))),
    }
}

fn query(input: Vec<u8>) -> Result<Vec<u8>> {
    check_size(&input, "query")?;
    let query = parse(&input)?;
    let records = match query.get("records") {
        Some(Value::Array(records)) => records,
        _ => return Err(bad("expected an object with an array \"records\"")),
    };
    let conditions = list(&query, "where")?.iter().map(Condition::parse).collect::<Result<Vec<_>>>()?;
    let mut sort = Vec::new();
    for key in list(&query, "sort")? {
        let field = key.get("field").and_then(Value::as_str).ok_or_else(|| bad("each sort key needs a string \"field\""))?;
        sort.push((field, key.get("desc").and_then(Value::as_bool).unwrap_or(false)));
    }
    let select = list(&query, "select")?.iter().map(|f| f.as_str().ok_or_else(|| bad("\"select\" lists field names"))).collect::<Result<Vec<_>>>()?;
    let limit = match query.get("limit") {
        None | Some(Value::Null) => usize::MAX,
        Some(v) => v.as_i64().filter(|n| *n >= 0).map(|n| n as usize).ok_or_else(|| bad("expected \"limit\" to be a non-negative integer"))?,
    };
    let mut matched: Vec<&Value> = records.iter().filter(|r| conditions.iter().all(|c| c.holds(r))).collect();
    // Stable: records equal on every key keep their order in the document.
    matched.sort_by(|a, b| {
        let keys = sort.iter().map(|(field, desc)| {
            let order = compare(lookup(a, field), lookup(b, field));
            if *desc {
                order.reverse()
            } else {
                order
            }
        });
        keys.fold(Ordering::Equal, Ordering::then)
    });
    let total = matched.len();
    let out: Vec<Value> = matched.into_iter().take(limit).map(|r| if select.is_empty() { r.clone() } else { Value::object(select.iter().map(|f| (f.to_string(), lookup(r, f).clone()))) }).collect();
    QUERIES.with(|q| q.set(q.get() + 1));
    UNSAVED.with(|u| u.set(u.get() + 1));
    json::to_vec(&Value::object(vec![("total", Value::from(total)), ("count", Value::from(out.len())), ("records", Value::Array(out))]))
}

/// RFC 4180 fields of every row; `\r\n` or `\n` ends a row outside quotes.
fn csv_rows(text: &str) -> Result<Vec<Vec<String>>> {
    let mut rows = Vec::new();
    let (mut row, mut field) = (Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let (mut quoted, mut line) = (false, 1);
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, '"') => return Err(Error::new("E_BAD_CSV", format!("line {line}: a quote inside an unquoted field"))),
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
                line += 1;
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err(Error::new("E_BAD_CSV", format!("line {line}: a quoted field is not closed")));
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    Ok(rows)
}

fn csv(input: Vec<u8>) -> Result<Vec<u8>> {
    check_size(&input, "csv")?;
    let text = forge_pdk::text(&input).map_err(|e| Error::new("E_BAD_CSV", e.message()))?;
    let mut rows = csv_rows(text)?.into_iter();
    let header = rows.next().unwrap_or_default();
    let mut out = Vec::new();
    for (i, row) in rows.enumerate() {
        if row.len() != header.len() {
            return Err(Error::new("E_BAD_CSV", format!("row {}: expected {} fields as in the header, found {}", i + 2, header.len(), row.len())));
        }
        out.push(Value::object(header.iter().cloned().zip(row.into_iter().map(Value::from))));
    }
    json::to_vec(&Value::Array(out))
}

/// Adds the queries not yet saved to the stored total and answers it.
fn save_total() -> Result<u64> {
    let stored = match host::kv_get("total") {
        Ok(bytes) => std::str::from_utf8(&bytes).ok().and_then(|s| s.parse::<u64>().ok()).unwrap_or(0),
        Err(e) if e.is(codes::KV_NOT_FOUND) => 0,
        Err(e) => return Err(e),
    };
    let total = stored + UNSAVED.with(Cell::get);
    host::kv_set("total", total.to_string().as_bytes())?;
    UNSAVED.with(|u| u.set(0));
    Ok(total)
}

fn stats(_: Vec<u8>) -> Result<Vec<u8>> {
    let total = save_total()?;
    json::to_vec(&Value::object(vec![("queries", Value::from(QUERIES.with(Cell::get))), ("total", Value::from(total))]))
}

fn init() -> Result<()> {
    host::log(Level::Info, "rust-records ready")
}

export!(query => query, csv => csv, stats => stats);
lifecycle!(plugin_init => init);
