// The AssemblyScript PDK's test plugin: each export exercises wrappers against the real
// host and answers what they returned (JSON of codes and values), so the test
// (packages/plugin-manager/src/registry/as-pdk.test.ts) checks them from outside.
import {
  ByteWriter, FileMode, HttpRequest, Input, JsonKind, JsonValue, JsonWriter, Level, Output, Status, call,
  callPlugin, configGet, emitEvent, fileRead, fileWrite, http, kvDelete, kvGet, kvList, kvSet, lifecycle, log,
  parseJson, randomBytes, registerExtension, text, timeNow, utf8,
} from '@forgeone/pdk';
export { forge_alloc, forge_free } from '@forgeone/pdk';

function codeOf(s: Status): string {
  return s.ok ? 'ok' : s.code;
}

let started: i32 = 0;
export function on_start(): i32 {
  return lifecycle((): i32 => {
    started++;
    return log(Level.Info, 'pdk-guest started').ok ? 0 : 1;
  });
}

/** kv: set three keys, list them two by two, get, delete twice, get again. */
export function kv(ptr: u32, len: u32): u64 {
  return call(ptr, len, (input: Input): Output => {
    const w = new ByteWriter();
    const j = new JsonWriter(w);
    kvSet('p/a', utf8('a'));
    kvSet('p/b', utf8('b'));
    kvSet('p/c', utf8('c'));
    kvSet('q', utf8('other prefix'));
    j.beginObject();
    j.key('pages');
    j.beginArray();
    let cursor = new Uint8Array(0);
    for (let i = 0; i < 5; i++) {
      const page = kvList('p/', cursor, 2);
      if (!page.ok) return Output.status(page);
      j.beginArray();
      for (let k = 0; k < page.keys.length; k++) j.string(page.keys[k]);
      j.endArray();
      cursor = page.cursor;
      if (cursor.length == 0) break;
    }
    j.endArray();
    const got = kvGet('p/b');
    j.field('get', codeOf(got));
    j.field('value', got.text());
    const first = kvDelete('p/b');
    const again = kvDelete('p/b');
    j.field('delete', codeOf(first));
    j.field('delete_again', codeOf(again));
    j.key('removed');
    j.beginArray();
    j.bool(first.removed);
    j.bool(again.removed);
    j.endArray();
    const after = kvGet('p/b');
    j.field('after', codeOf(after));
    j.key('after_value_len');
    j.int(after.value.length);
    j.endObject();
    return Output.writer(w);
  });
}

/** config(key): the operator's value, or the host's refusal relayed. */
export function config(ptr: u32, len: u32): u64 {
  return call(ptr, len, (input: Input): Output => {
    const value = configGet(input.text());
    return value.ok ? Output.bytes(value.value) : Output.status(value);
  });
}

/** clocks: time_now and random_get, and random_get over its limit. */
export function clocks(ptr: u32, len: u32): u64 {
  return call(ptr, len, (input: Input): Output => {
    const w = new ByteWriter();
    const j = new JsonWriter(w);
    const t1 = timeNow();
    const t2 = timeNow();
    const random = randomBytes(32);
    j.beginObject();
    j.field('time', codeOf(t1));
    j.key('wall_ms');
    j.uint(t1.wallNs / 1000000);
    j.key('monotonic_ordered');
    j.bool(t2.monotonicNs >= t1.monotonicNs && t1.monotonicNs > 0);
    j.field('random', codeOf(random));
    j.key('bytes');
    j.beginArray();
    for (let i = 0; i < random.value.length; i++) j.uint(random.value[i]);
    j.endArray();
    j.field('random_over_limit', codeOf(randomBytes(65537)));
    j.endObject();
    return Output.writer(w);
  });
}

/** files: replace, append, create (exists), read back, a missing file, a path outside every volume. */
export function files(ptr: u32, len: u32): u64 {
  return call(ptr, len, (input: Input): Output => {
    const w = new ByteWriter();
    const j = new JsonWriter(w);
    j.beginObject();
    j.field('replace', codeOf(fileWrite('/data/out.txt', FileMode.Replace, utf8('hello'))));
    j.field('append', codeOf(fileWrite('/data/out.txt', FileMode.Append, utf8(' world'))));
    j.field('create', codeOf(fileWrite('/data/out.txt', FileMode.Create, utf8('again'))));
    const read = fileRead('/data/out.txt');
    j.field('read', codeOf(read));
    j.field('content', read.text());
    j.field('missing', codeOf(fileRead('/data/none.txt')));
    const outside = fileRead('/etc/passwd');
    j.field('outside', codeOf(outside));
    j.key('outside_len');
    j.int(outside.value.length);
    j.endObject();
    return Output.writer(w);
  });
}

/** event(payload): emits pdk.tested. */
export function event(ptr: u32, len: u32): u64 {
  return call(ptr, len, (input: Input): Output => {
    const sent = emitEvent('pdk.tested', input.bytes);
    return sent.ok ? Output.text('sent') : Output.status(sent);
  });
}

/** relay(input): lib's echo of the input, through call_plugin. */
export function relay(ptr: u32, len: u32): u64 {
  return call(ptr, len, (input: Input): Output => {
    const out = callPlugin('lib', 'echo', input.bytes);
    return out.ok ? Output.bytes(out.value) : Output.status(out);
  });
}

/** extend(point): registers upper as an implementation of `point`. */
export function extend(ptr: u32, len: u32): u64 {
  return call(ptr, len, (input: Input): Output => {
    const done = registerExtension(input.text(), 'upper');
    return done.ok ? Output.empty() : Output.status(done);
  });
}

/** upper(text): ASCII letters in capitals. */
export function upper(ptr: u32, len: u32): u64 {
  return call(ptr, len, (input: Input): Output => {
    const b = input.bytes;
    for (let i = 0; i < b.length; i++) if (b[i] >= 0x61 && b[i] <= 0x7a) b[i] -= 32;
    return Output.bytes(b);
  });
}

/** http(url): a GET with a header, following redirects; status, final URL, body, headers as JSON. */
export function fetch(ptr: u32, len: u32): u64 {
  return call(ptr, len, (input: Input): Output => {
    const req = new HttpRequest(input.text()).header('accept', 'text/plain');
    req.followRedirects = true;
    req.timeoutMs = 5000;
    const res = http(req);
    if (!res.ok) return Output.status(res);
    const w = new ByteWriter();
    const j = new JsonWriter(w);
    j.beginObject();
    j.key('status');
    j.uint(res.status);
    j.field('url', res.url);
    j.field('body', res.text());
    const xTest = res.header('X-Test');
    j.field('x_test', xTest === null ? '(none)' : xTest);
    j.key('header_count');
    j.int(res.headers.length);
    j.endObject();
    return Output.writer(w);
  });
}

/** json(input): the writer's escapes, numbers and nesting, with the input as a string. */
export function json(ptr: u32, len: u32): u64 {
  return call(ptr, len, (input: Input): Output => {
    const w = new ByteWriter();
    const j = new JsonWriter(w);
    j.beginObject();
    j.field('s', 'q" b\\ n\n t\t c\u0001 e\u00e9 \u{1f600} lone' + String.fromCharCode(0xd800) + '.');
    j.field('input', input.text());
    j.key('neg');
    j.int(-42);
    j.key('max');
    j.uint(u64.MAX_VALUE);
    j.key('min');
    j.int(i64.MIN_VALUE);
    j.key('half');
    j.number(0.5);
    j.key('flags');
    j.beginArray();
    j.bool(true);
    j.bool(false);
    j.null();
    j.int(-1);
    j.beginArray();
    j.endArray();
    j.beginObject();
    j.endObject();
    j.endArray();
    j.endObject();
    return Output.writer(w);
  });
}

/** json_misuse(which): each misuse of the writer, answered with the writer's error. */
export function json_misuse(ptr: u32, len: u32): u64 {
  return call(ptr, len, (input: Input): Output => {
    const which = input.text();
    const w = new ByteWriter(which == 'l' ? 8 : 0);
    const j = new JsonWriter(w);
    if (which == 'l') j.string('longer than eight bytes');
    else if (which == 'd') for (let i = 0; i < 33; i++) j.beginArray();
    else if (which == 'u') j.endObject();
    else if (which == 'k') {
      j.beginArray();
      j.key('in an array');
    } else if (which == 'v') {
      j.beginObject();
      j.string('value without a key');
    } else if (which == 'm') {
      j.beginObject();
      j.endArray();
    } else if (which == 'n') j.number(NaN);
    return Output.writer(w);
  });
}

function write(j: JsonWriter, v: JsonValue): void {
  if (v.kind == JsonKind.Null) j.null();
  else if (v.kind == JsonKind.Bool) j.bool(v.bool);
  else if (v.kind == JsonKind.Number) j.number(v.number);
  else if (v.kind == JsonKind.String) j.string(v.string);
  else if (v.kind == JsonKind.Array) {
    j.beginArray();
    for (let i = 0; i < v.items.length; i++) write(j, v.items[i]);
    j.endArray();
  } else {
    j.beginObject();
    for (let i = 0; i < v.keys.length; i++) {
      j.key(v.keys[i]);
      write(j, v.items[i]);
    }
    j.endObject();
  }
}

/** parse(json): the reader's value written back by the writer, or PDK_BAD_JSON with where. */
export function parse(ptr: u32, len: u32): u64 {
  return call(ptr, len, (input: Input): Output => {
    const parsed = parseJson(input.bytes);
    if (!parsed.ok) return Output.status(parsed);
    const w = new ByteWriter();
    write(new JsonWriter(w), parsed.value);
    return Output.writer(w);
  });
}

/** relay_error: kv_get of an empty key, the host's refusal relayed. */
export function relay_error(ptr: u32, len: u32): u64 {
  return call(ptr, len, (input: Input): Output => Output.status(kvGet('')));
}

/** bad_code: an error payload whose code breaks the grammar. */
export function bad_code(ptr: u32, len: u32): u64 {
  return call(ptr, len, (input: Input): Output => Output.error('not a code!', 'spaces are not allowed'));
}

/** log_sizes: a message of 16 KiB (the limit) and one byte more. */
export function log_sizes(ptr: u32, len: u32): u64 {
  return call(ptr, len, (input: Input): Output => {
    const w = new ByteWriter();
    const j = new JsonWriter(w);
    j.beginObject();
    j.field('at_limit', codeOf(log(Level.Debug, 'x'.repeat(16384))));
    j.field('over_limit', codeOf(log(Level.Debug, 'x'.repeat(16385))));
    j.endObject();
    return Output.writer(w);
  });
}

/** boom: an AssemblyScript abort, which the PDK logs and turns into a trap. */
export function boom(ptr: u32, len: u32): u64 {
  return call(ptr, len, (input: Input): Output => {
    if (input.length > 0) throw new Error('boom: ' + input.text());
    return Output.text('started ' + started.toString());
  });
}
