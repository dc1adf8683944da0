/*
 * The C PDK's own test guest: one export per part of forge.h, each answering JSON that
 * packages/plugin-manager/src/registry/c-pdk.test.ts checks against the host.
 */
#include "forge.h"

/* Writes `key`: "ok" or the status's code. */
static void status(forge_json *j, const char *key, forge_status s) {
  forge_json_key(j, forge_cstr(key));
  forge_json_string(j, forge_cstr(s.ok ? "ok" : s.code));
}

static void begin(forge_writer *w, forge_json *j) {
  forge_writer_init(w, 0);
  forge_json_init(j, w);
  forge_json_object_begin(j);
}

static forge_result end(forge_writer *w, forge_json *j) {
  forge_json_object_end(j);
  return forge_ok_writer(w);
}

/* kv_set, kv_list in pages, kv_get, kv_delete twice, kv_get of the deleted key. */
static forge_result kv(forge_input in) {
  (void)in;
  forge_writer w;
  forge_json j;
  begin(&w, &j);
  const char *keys[] = {"p/a", "p/b", "p/c", "q/z"};
  for (int i = 0; i < 4; i++) {
    forge_status s = forge_kv_set(forge_cstr(keys[i]), forge_cstr(keys[i] + 2));
    if (!s.ok) { forge_writer_free(&w); return forge_error_status(&s); }
  }
  forge_json_key(&j, FORGE_LIT("pages"));
  forge_json_array_begin(&j);
  forge_buf cursor = {NULL, 0};
  do {
    forge_kv_page page;
    forge_status s = forge_kv_list(2, FORGE_LIT("p/"), forge_buf_slice(cursor), &page);
    forge_buf_free(&cursor);
    if (!s.ok) { forge_writer_free(&w); return forge_error_status(&s); }
    forge_json_array_begin(&j);
    forge_slice key;
    while (forge_kv_next(&page, &key)) forge_json_string(&j, key);
    forge_json_array_end(&j);
    if (page.cursor.len > 0) {
      cursor.ptr = (uint8_t *)malloc(page.cursor.len);
      if (cursor.ptr == NULL) { forge_kv_page_free(&page); forge_writer_free(&w); return forge_error("E_OOM", "cursor"); }
      memcpy(cursor.ptr, page.cursor.ptr, page.cursor.len);
      cursor.len = page.cursor.len;
    }
    forge_kv_page_free(&page);
  } while (cursor.len > 0);
  forge_json_array_end(&j);
  forge_buf value;
  status(&j, "get", forge_kv_get(FORGE_LIT("p/b"), &value));
  forge_json_key(&j, FORGE_LIT("value"));
  forge_json_string(&j, forge_buf_slice(value));
  forge_buf_free(&value);
  bool removed[2] = {false, true};
  status(&j, "delete", forge_kv_delete(FORGE_LIT("p/a"), &removed[0]));
  status(&j, "delete_again", forge_kv_delete(FORGE_LIT("p/a"), &removed[1]));
  forge_json_key(&j, FORGE_LIT("removed"));
  forge_json_array_begin(&j);
  forge_json_bool(&j, removed[0]);
  forge_json_bool(&j, removed[1]);
  forge_json_array_end(&j);
  status(&j, "after", forge_kv_get(FORGE_LIT("p/a"), &value));
  forge_json_key(&j, FORGE_LIT("after_value_len"));
  forge_json_uint(&j, value.len);
  return end(&w, &j);
}
FORGE_EXPORT(kv, kv)

/* config_get of the key given as input. */
static forge_result config(forge_input in) {
  forge_buf value;
  forge_status s = forge_config_get(forge_slice_of(in.ptr, in.len), &value);
  if (!s.ok) return forge_error_status(&s);
  return forge_ok_buf(value);
}
FORGE_EXPORT(config, config)

/* time_now, random bytes, and a random count over the host's limit. */
static forge_result clocks(forge_input in) {
  (void)in;
  forge_writer w;
  forge_json j;
  begin(&w, &j);
  uint64_t wall = 0, mono1 = 0, mono2 = 0;
  status(&j, "time", forge_time_now(&wall, &mono1));
  (void)forge_time_now(NULL, &mono2);
  forge_json_key(&j, FORGE_LIT("wall_ms"));
  forge_json_uint(&j, wall / 1000000u);
  forge_json_key(&j, FORGE_LIT("monotonic_ordered"));
  forge_json_bool(&j, mono1 > 0 && mono2 >= mono1);
  uint8_t bytes[32];
  status(&j, "random", forge_random(bytes, sizeof bytes));
  forge_json_key(&j, FORGE_LIT("bytes"));
  forge_json_array_begin(&j);
  for (unsigned i = 0; i < sizeof bytes; i++) forge_json_uint(&j, bytes[i]);
  forge_json_array_end(&j);
  static uint8_t big[65537];
  status(&j, "random_over_limit", forge_random(big, sizeof big));
  return end(&w, &j);
}
FORGE_EXPORT(clocks, clocks)

/* file_write in every mode, file_read, and refusals. */
static forge_result files(forge_input in) {
  (void)in;
  forge_writer w;
  forge_json j;
  begin(&w, &j);
  status(&j, "replace", forge_file_write(FORGE_LIT("/data/out.txt"), FORGE_FILE_REPLACE, FORGE_LIT("hello")));
  status(&j, "append", forge_file_write(FORGE_LIT("/data/out.txt"), FORGE_FILE_APPEND, FORGE_LIT(" world")));
  status(&j, "create", forge_file_write(FORGE_LIT("/data/out.txt"), FORGE_FILE_CREATE, FORGE_LIT("again")));
  forge_buf data;
  status(&j, "read", forge_file_read(FORGE_LIT("/data/out.txt"), &data));
  forge_json_key(&j, FORGE_LIT("content"));
  forge_json_string(&j, forge_buf_slice(data));
  forge_buf_free(&data);
  status(&j, "missing", forge_file_read(FORGE_LIT("/data/missing.txt"), &data));
  status(&j, "outside", forge_file_read(FORGE_LIT("/etc/passwd"), &data));
  forge_json_key(&j, FORGE_LIT("outside_len"));
  forge_json_uint(&j, data.len);
  return end(&w, &j);
}
FORGE_EXPORT(files, files)

/* emit_event with the input as payload. */
static forge_result event(forge_input in) {
  forge_status s = forge_emit_event(FORGE_LIT("pdk.tested"), forge_slice_of(in.ptr, in.len));
  return s.ok ? forge_ok_static(FORGE_LIT("sent")) : forge_error_status(&s);
}
FORGE_EXPORT(event, event)

/* call_plugin: input is sent to lib's echo; the answer is this call's output. */
static forge_result relay(forge_input in) {
  forge_buf out;
  forge_status s = forge_call_plugin(FORGE_LIT("lib"), FORGE_LIT("echo"), forge_slice_of(in.ptr, in.len), &out);
  return s.ok ? forge_ok_buf(out) : forge_error_status(&s);
}
FORGE_EXPORT(relay, relay)

/* register_extension: this plugin's `upper` implements the point named by the input. */
static forge_result extend(forge_input in) {
  forge_status s = forge_register_extension(forge_slice_of(in.ptr, in.len), FORGE_LIT("upper"));
  return s.ok ? forge_ok_empty() : forge_error_status(&s);
}
FORGE_EXPORT(extend, extend)

/* http_request: GET of the URL given as input, with a header; answers what came back. */
static forge_result http(forge_input in) {
  forge_header headers[1] = {{FORGE_LIT("X-Plugin"), FORGE_LIT("c-pdk")}};
  forge_http_request req = {FORGE_LIT("GET"), forge_slice_of(in.ptr, in.len), headers, 1, 5000, true, {NULL, 0}};
  forge_http_response res;
  forge_status s = forge_http(&req, &res);
  if (!s.ok) return forge_error_status(&s);
  forge_writer w;
  forge_json j;
  begin(&w, &j);
  forge_json_key(&j, FORGE_LIT("status"));
  forge_json_uint(&j, res.status);
  forge_json_key(&j, FORGE_LIT("url"));
  forge_json_string(&j, res.url);
  forge_json_key(&j, FORGE_LIT("body"));
  forge_json_string(&j, res.body);
  forge_json_key(&j, FORGE_LIT("headers"));
  forge_json_object_begin(&j);
  forge_header h;
  while (forge_http_next_header(&res, &h)) {
    forge_json_key(&j, h.name);
    forge_json_string(&j, h.value);
  }
  forge_json_object_end(&j);
  forge_http_response_free(&res);
  return end(&w, &j);
}
FORGE_EXPORT(http, http)

/* The JSON writer: escapes, ill-formed UTF-8, numbers at their limits, nesting. */
static forge_result json(forge_input in) {
  forge_writer w;
  forge_json j;
  begin(&w, &j);
  forge_json_key(&j, FORGE_LIT("s"));
  forge_json_string(&j, FORGE_LIT("q\" b\\ n\n t\t c\x01 bad\xff\xc0\xaf e\xc3\xa9 \xf0\x9f\x98\x80"));
  forge_json_key(&j, FORGE_LIT("input"));
  forge_json_string(&j, forge_slice_of(in.ptr, in.len));
  forge_json_key(&j, FORGE_LIT("neg"));
  forge_json_int(&j, -42);
  forge_json_key(&j, FORGE_LIT("max"));
  forge_json_uint(&j, UINT64_MAX);
  forge_json_key(&j, FORGE_LIT("min"));
  forge_json_int(&j, INT64_MIN);
  forge_json_key(&j, FORGE_LIT("flags"));
  forge_json_array_begin(&j);
  forge_json_bool(&j, true);
  forge_json_bool(&j, false);
  forge_json_null(&j);
  forge_json_int(&j, -1);
  forge_json_array_begin(&j);
  forge_json_array_end(&j);
  forge_json_object_begin(&j);
  forge_json_object_end(&j);
  forge_json_array_end(&j);
  return end(&w, &j);
}
FORGE_EXPORT(json, json)

/* Misuses of the writer, each answering the status it leaves (input picks which). */
static forge_result json_misuse(forge_input in) {
  forge_writer w;
  forge_json j;
  forge_writer_init(&w, in.len > 0 && in.ptr[0] == 'l' ? 8 : 0);
  forge_json_init(&j, &w);
  char which = in.len > 0 ? (char)in.ptr[0] : '?';
  if (which == 'l') forge_json_string(&j, FORGE_LIT("longer than eight bytes")); /* limit */
  if (which == 'd') for (int i = 0; i <= FORGE_JSON_MAX_DEPTH; i++) forge_json_array_begin(&j);
  if (which == 'u') forge_json_object_end(&j);        /* end without a begin */
  if (which == 'k') { forge_json_array_begin(&j); forge_json_key(&j, FORGE_LIT("k")); } /* key in an array */
  if (which == 'v') { forge_json_object_begin(&j); forge_json_uint(&j, 1); }           /* value without a key */
  if (which == 'm') { forge_json_array_begin(&j); forge_json_object_end(&j); }         /* mismatched end */
  return forge_ok_writer(&w); /* an error payload when the writer failed */
}
FORGE_EXPORT(json_misuse, json_misuse)

/* In place: the input, upper-cased, is the output (the host frees it). */
static forge_result upper(forge_input in) {
  for (uint32_t i = 0; i < in.len; i++)
    if (in.ptr[i] >= 'a' && in.ptr[i] <= 'z') in.ptr[i] = (uint8_t)(in.ptr[i] - 32);
  forge_buf b = {in.ptr, in.len};
  return forge_ok_buf(b);
}
FORGE_EXPORT(upper, upper)

/* A view into the input, returned as kept: the PDK copies it before freeing the input. */
static forge_result tail(forge_input in) {
  /* Hold a block past the input, as a plugin with state does, so the freed input is not
   * merged back into the free top of the heap, where its bytes would survive by luck. */
  static void *held;
  free(held);
  held = malloc(64);
  if (in.len < 2) return forge_error("E_SHORT", "tail needs two bytes");
  return forge_ok_static(forge_slice_of(in.ptr + 1, in.len - 1));
}
FORGE_EXPORT(tail, tail)

/* An error code outside the grammar: the host refuses the payload. */
static forge_result bad_code(forge_input in) {
  (void)in;
  return forge_error("not a code", "spaces are not allowed in codes");
}
FORGE_EXPORT(bad_code, bad_code)

/* forge.log at its 16 KiB limit and one byte over. */
static forge_result log_sizes(forge_input in) {
  (void)in;
  static uint8_t text[16385];
  memset(text, 'x', sizeof text);
  forge_writer w;
  forge_json j;
  begin(&w, &j);
  status(&j, "at_limit", forge_log(FORGE_DEBUG, forge_slice_of(text, 16384)));
  status(&j, "over_limit", forge_log(FORGE_DEBUG, forge_slice_of(text, 16385)));
  return end(&w, &j);
}
FORGE_EXPORT(log_sizes, log_sizes)

/* A host refusal relayed with forge_error_status: kv_get of an empty key. */
static forge_result relay_error(forge_input in) {
  (void)in;
  forge_buf value;
  forge_status s = forge_kv_get(forge_slice_of(NULL, 0), &value);
  return s.ok ? forge_ok_buf(value) : forge_error_status(&s);
}
FORGE_EXPORT(relay_error, relay_error)
