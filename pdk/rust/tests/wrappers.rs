//! The Rust PDK's own test guest: one export per part of forge_pdk, each answering what
//! packages/plugin-manager/src/registry/rust-pdk.test.ts checks against the host.

use forge_pdk::host::{self, FileMode, HttpRequest, Level};
use forge_pdk::json::{self, Value};
use forge_pdk::{export, lifecycle, Error, Output, Result};

/// "ok" or the error's code.
fn status<T>(result: &Result<T>) -> Value {
    Value::from(match result {
        Ok(_) => "ok",
        Err(error) => error.code(),
    })
}

fn answer(pairs: Vec<(&str, Value)>) -> Result<Vec<u8>> {
    json::to_vec(&Value::object(pairs))
}

/// kv_set, kv_list in pages of two, kv_get, kv_delete twice, kv_get of the deleted key.
fn kv(_: Vec<u8>) -> Result<Vec<u8>> {
    for key in ["p/a", "p/b", "p/c", "q/z"] {
        host::kv_set(key, key[2..].as_bytes())?;
    }
    let mut pages = Vec::new();
    let mut cursor = Vec::new();
    loop {
        let page = host::kv_list(2, "p/", &cursor)?;
        pages.push(Value::Array(page.keys.into_iter().map(Value::from).collect()));
        cursor = page.cursor;
        if cursor.is_empty() {
            break;
        }
    }
    let got = host::kv_get("p/b");
    let value = got.as_ref().map(|v| String::from_utf8_lossy(v).into_owned()).unwrap_or_default();
    let first = host::kv_delete("p/a");
    let second = host::kv_delete("p/a");
    let removed = vec![Value::from(first.clone().unwrap_or(false)), Value::from(second.clone().unwrap_or(true))];
    let after = host::kv_get("p/a");
    answer(vec![("pages", Value::Array(pages)), ("get", status(&got)), ("value", value.into()), ("delete", status(&first)), ("delete_again", status(&second)), ("removed", removed.into()), ("after", status(&after))])
}

/// config_get of the key given as input.
fn config(input: Vec<u8>) -> Result<String> {
    host::config_get(forge_pdk::text(&input)?)
}

/// time_now twice, random bytes, and a random count over the host's limit.
fn clocks(_: Vec<u8>) -> Result<Vec<u8>> {
    let first = host::time_now();
    let second = host::time_now()?;
    let time = first.as_ref().map(|t| *t).unwrap_or(second);
    let random = host::random_bytes(32);
    let bytes: Vec<Value> = random.as_ref().map(|b| b.iter().map(|&x| Value::from(u32::from(x))).collect()).unwrap_or_default();
    let mut filled = [0u8; 16];
    let fill = host::random_fill(&mut filled);
    answer(vec![
        ("time", status(&first)),
        ("wall_ms", Value::from(time.wall_ns / 1_000_000)),
        ("monotonic_ordered", Value::from(time.monotonic_ns > 0 && second.monotonic_ns >= time.monotonic_ns)),
        ("random", status(&random)),
        ("bytes", bytes.into()),
        ("fill", status(&fill)),
        ("filled_nonzero", Value::from(filled.iter().any(|&b| b != 0))),
        ("random_over_limit", status(&host::random_bytes(65537))),
    ])
}

/// file_write in every mode, file_read, and refusals.
fn files(_: Vec<u8>) -> Result<Vec<u8>> {
    let replace = host::file_write("/data/out.txt", FileMode::Replace, b"hello");
    let append = host::file_write("/data/out.txt", FileMode::Append, b" world");
    let create = host::file_write("/data/out.txt", FileMode::Create, b"again");
    let read = host::file_read("/data/out.txt");
    let content = read.as_ref().map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default();
    answer(vec![
        ("replace", status(&replace)),
        ("append", status(&append)),
        ("create", status(&create)),
        ("read", status(&read)),
        ("content", content.into()),
        ("missing", status(&host::file_read("/data/missing.txt"))),
        ("outside", status(&host::file_read("/etc/passwd"))),
        ("dotdot", status(&host::file_write("/data/../escape.txt", FileMode::Replace, b"x"))),
    ])
}

/// emit_event with the input as payload.
fn event(input: Vec<u8>) -> Result<&'static str> {
    host::emit_event("pdk.tested", &input)?;
    Ok("sent")
}

/// call_plugin: the input goes to lib's echo; its answer is this call's output.
fn relay(input: Vec<u8>) -> Result<Vec<u8>> {
    host::call_plugin("lib", "echo", &input)
}

/// register_extension: this plugin's `upper` implements the point named by the input.
fn extend(input: Vec<u8>) -> Result<()> {
    host::register_extension(forge_pdk::text(&input)?, "upper")
}

/// http_request: GET of the URL given as input, with a header, following redirects.
fn http(input: Vec<u8>) -> Result<Vec<u8>> {
    let request = HttpRequest::get(forge_pdk::text(&input)?).header("X-Plugin", "rust-pdk").timeout_ms(5000).follow_redirects(true);
    let response = host::http_request(&request)?;
    let headers = Value::object(response.headers.iter().map(|(n, v)| (n.clone(), Value::from(v.as_str()))));
    answer(vec![("status", response.status.into()), ("url", response.url.as_str().into()), ("body", String::from_utf8_lossy(&response.body).into_owned().into()), ("headers", headers), ("x_test", response.header("X-TEST").into())])
}

/// The JSON writer: escapes, numbers at their limits, nesting, and the input (lossy).
fn json_write(input: Vec<u8>) -> Result<Vec<u8>> {
    let flags = vec![true.into(), false.into(), Value::Null, (-1i64).into(), Value::Array(vec![]), Value::Object(vec![]), f64::NAN.into(), 0.5f64.into()];
    answer(vec![
        ("s", "q\" b\\ n\n t\t c\u{1} e\u{e9} \u{1f600} /".into()),
        ("input", String::from_utf8_lossy(&input).into_owned().into()),
        ("neg", (-42i64).into()),
        ("max", u64::MAX.into()),
        ("min", i64::MIN.into()),
        ("flags", flags.into()),
    ])
}

/// The parser, then the writer: the input document written back compactly.
fn json_echo(input: Vec<u8>) -> Result<Vec<u8>> {
    json::to_vec(&json::parse(&input)?)
}

/// The writer's limits: 'd' nests 65 arrays (PDK_JSON_TOO_DEEP), 'l' passes an 8-byte limit (PDK_TOO_LARGE).
fn json_limits(input: Vec<u8>) -> Result<Vec<u8>> {
    if input.first() == Some(&b'l') {
        return json::to_vec_limited(&Value::from("longer than eight bytes"), 8);
    }
    let mut deep = Value::Null;
    for _ in 0..=json::MAX_DEPTH {
        deep = Value::Array(vec![deep]);
    }
    json::to_vec(&deep)
}

/// In place: the input, upper-cased, is the output (the host frees it).
fn upper(mut input: Vec<u8>) -> Result<Vec<u8>> {
    input.make_ascii_uppercase();
    Ok(input)
}

/// All but the first byte: a new region; the input is freed by the PDK.
fn tail(mut input: Vec<u8>) -> Result<Vec<u8>> {
    if input.len() < 2 {
        return Err(Error::new("E_SHORT", "tail needs two bytes"));
    }
    Ok(input.split_off(1))
}

/// Kept static bytes (the keep flag): nothing for the host to free.
fn constant(_: Vec<u8>) -> Result<Output> {
    Ok(Output::Kept(b"static bytes"))
}

/// An error code outside the grammar: the host refuses the payload.
fn bad_code(_: Vec<u8>) -> Result<()> {
    Err(Error::new("not a code", "spaces are not allowed in codes"))
}

/// A message over 4096 bytes: cut at a character boundary.
fn long_message(_: Vec<u8>) -> Result<()> {
    Err(Error::new("E_LONG", "\u{e9}".repeat(3000)))
}

/// forge.log at its 16 KiB limit and one byte over.
fn log_sizes(_: Vec<u8>) -> Result<Vec<u8>> {
    let text = "x".repeat(16385);
    answer(vec![("at_limit", status(&host::log(Level::Debug, &text[..16384]))), ("over_limit", status(&host::log(Level::Debug, &text)))])
}

/// A host refusal relayed with `?`: kv_get of an empty key.
fn relay_error(_: Vec<u8>) -> Result<Vec<u8>> {
    host::kv_get("")
}

/// Every wrapper once, each with a request policy could allow (the input is an http URL).
fn every(input: Vec<u8>) -> Result<Vec<u8>> {
    let url = forge_pdk::text(&input)?;
    answer(vec![
        ("log", status(&host::log(Level::Info, "x"))),
        ("config_get", status(&host::config_get("greeting"))),
        ("kv_set", status(&host::kv_set("e/k", b"x"))),
        ("kv_get", status(&host::kv_get("e/k"))),
        ("kv_delete", status(&host::kv_delete("e/k"))),
        ("kv_list", status(&host::kv_list(0, "e/", b""))),
        ("http_request", status(&host::http_request(&HttpRequest::get(url)))),
        ("file_write", status(&host::file_write("/data/every.txt", FileMode::Replace, b"x"))),
        ("file_read", status(&host::file_read("/data/every.txt"))),
        ("emit_event", status(&host::emit_event("pdk.every", b""))),
        ("time_now", status(&host::time_now())),
        ("random_get", status(&host::random_bytes(4))),
        ("call_plugin", status(&host::call_plugin("lib", "echo", b"x"))),
        ("register_extension", status(&host::register_extension("text.upper", "upper"))),
    ])
}

/// Panics with the input as the message.
fn panics(input: Vec<u8>) -> Result<()> {
    panic!("boom: {}", String::from_utf8_lossy(&input));
}

fn init() -> Result<()> {
    host::log(Level::Info, "pdk-guest ready")
}

/// Fails when the operator's config says so: the lifecycle step's error is logged.
fn start() -> Result<()> {
    match host::config_get("fail_start") {
        Ok(_) => Err(Error::new("E_START", "told to fail")),
        Err(_) => Ok(()),
    }
}

export!(kv => kv, config => config, clocks => clocks, files => files, event => event, relay => relay, extend => extend, http => http);
export!(json_write => json_write, json_echo => json_echo, json_limits => json_limits, upper => upper, tail => tail, constant => constant);
export!(bad_code => bad_code, long_message => long_message, log_sizes => log_sizes, relay_error => relay_error, every => every, "panic" => panics);
lifecycle!(plugin_init => init, plugin_start => start);
