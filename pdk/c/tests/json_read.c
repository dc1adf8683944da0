/*
 * The C PDK's JSON reader under test (packages/plugin-manager/src/registry/c-pdk-json.test.ts):
 *   canon(json)  -> the same document written again with forge_json.h (objects in order,
 *                   numbers as written), or the reader's PDK_JSON_INVALID error
 *   ints(json)   -> {"sum":S,"count":N} of an array of int64 integers (overflow is an error)
 */
#include "forge.h"

static bool copy_value(forge_json_reader *r, forge_json *j) {
  forge_buf text;
  forge_slice number;
  bool b, ok;
  switch (forge_json_peek(r)) {
    case FORGE_JSON_NULL: return forge_json_read_null(r) && forge_json_null(j);
    case FORGE_JSON_BOOL: return forge_json_read_bool(r, &b) && forge_json_bool(j, b);
    case FORGE_JSON_NUMBER: return forge_json_read_number_text(r, &number) && forge_json_number_text(j, number);
    case FORGE_JSON_STRING:
      if (!forge_json_read_string(r, &text)) return false;
      ok = forge_json_string(j, forge_buf_slice(text));
      forge_buf_free(&text);
      return ok;
    case FORGE_JSON_ARRAY:
      if (!forge_json_array_begin_read(r) || !forge_json_array_begin(j)) return false;
      while (forge_json_array_next(r))
        if (!copy_value(r, j)) return false;
      return r->error == NULL && forge_json_array_end(j);
    case FORGE_JSON_OBJECT:
      if (!forge_json_object_begin_read(r) || !forge_json_object_begin(j)) return false;
      while (forge_json_object_next(r, &text)) {
        ok = forge_json_key(j, forge_buf_slice(text));
        forge_buf_free(&text);
        if (!ok || !copy_value(r, j)) return false;
      }
      return r->error == NULL && forge_json_object_end(j);
    default: return false;
  }
}

static forge_result canon(forge_input in) {
  forge_json_reader r = forge_json_reader_of(forge_slice_of(in.ptr, in.len));
  forge_writer w;
  forge_json j;
  forge_writer_init(&w, 4u * in.len + 64);
  forge_json_init(&j, &w);
  bool ok = copy_value(&r, &j) && forge_json_read_end(&r);
  if (r.error != NULL) {
    forge_writer_free(&w);
    forge_status s = forge_json_read_status(&r);
    return forge_error_status(&s);
  }
  (void)ok;
  return forge_ok_writer(&w);
}
FORGE_EXPORT(canon, canon)

static forge_result ints(forge_input in) {
  forge_json_reader r = forge_json_reader_of(forge_slice_of(in.ptr, in.len));
  int64_t sum = 0, v;
  uint32_t count = 0;
  if (forge_json_array_begin_read(&r))
    while (forge_json_array_next(&r) && forge_json_read_int(&r, &v)) {
      if ((v > 0 && sum > INT64_MAX - v) || (v < 0 && sum < INT64_MIN - v)) return forge_error("E_OVERFLOW", "the sum is out of the int64 range");
      sum += v;
      count++;
    }
  if (!forge_json_read_end(&r)) {
    forge_status s = forge_json_read_status(&r);
    return forge_error_status(&s);
  }
  forge_writer w;
  forge_json j;
  forge_writer_init(&w, 64);
  forge_json_init(&j, &w);
  forge_json_object_begin(&j);
  forge_json_key(&j, FORGE_LIT("sum"));
  forge_json_int(&j, sum);
  forge_json_key(&j, FORGE_LIT("count"));
  forge_json_uint(&j, count);
  forge_json_object_end(&j);
  return forge_ok_writer(&w);
}
FORGE_EXPORT(ints, ints)
