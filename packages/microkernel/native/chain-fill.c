/*
 * The audit chain's per-record work in one native call per run of records: a Node-API
 * module (ABI-stable across Node versions) using the OpenSSL that Node itself exports
 * (headers in Node's include/node/openssl), built by scripts/build-native.mjs together
 * with chain-check.c (verification's check, exported by this file's module init). The
 * TypeScript caller is src/audit/chain-fill.ts; without this module it does the same in JS.
 *
 *   fill(buf, layout, from, to, prev) -> next
 *     buf     Uint8Array: a batch's bytes (may be on a SharedArrayBuffer)
 *     layout  Int32Array: 4 numbers per record (chain-fill.ts LAYOUT_STRIDE): line start,
 *             prev field, sig field (-1: none), body end
 *     prev    the hash before record `from`: 64 lowercase hex characters (a string)
 *   For records from, from + 1, ... < to, in order: writes the previous record's hash at
 *   its prev field, hashes its body [line start, body end) with sha256 and writes the
 *   lowercase hex at body end + 9 (after `,"hash":"`). Stops before the first record
 *   with a sig field (a checkpoint: chain-fill.ts signs it in JS, then calls again) and
 *   returns the index it stopped at (`to` when none had one). The hash of record
 *   next - 1 is then in `buf` at its hash field.
 *
 * SECURITY: every offset is read once from the layout (shared memory) into a local and
 * checked before any access: the prev field and the hash field must lie inside `buf`,
 * prev inside the body, the body inside `buf`; a record that fails a check throws
 * (FO_AUDIT_CHAIN_LAYOUT) after the records before it were filled, and nothing is
 * written outside `buf`. A bad `prev` string or argument throws a TypeError.
 */
#include <stdio.h>
#include <string.h>
#include "chain-native.h"

#define STRIDE 4
#define AT_START 0
#define AT_PREV 1
#define AT_SIG 2
#define AT_BODY_END 3

static napi_value layout_error(napi_env env, int64_t index, const char* what) {
  char message[160];
  snprintf(message, sizeof message, "audit batch layout of record %lld: %s", (long long)index, what);
  napi_throw_range_error(env, "FO_AUDIT_CHAIN_LAYOUT", message);
  return NULL;
}

static napi_value fill(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  size_t argc = 5;
  uint8_t* buf = NULL;
  int32_t* layout = NULL;
  size_t buf_length = 0, layout_length = 0;
  int64_t from = 0, to = 0;
  char prev[HEX_LENGTH + 1];
  size_t prev_length = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 5 || !chain_typed_array(env, argv[0], napi_uint8_array, (void**)&buf, &buf_length) ||
      !chain_typed_array(env, argv[1], napi_int32_array, (void**)&layout, &layout_length) || napi_get_value_int64(env, argv[2], &from) != napi_ok ||
      napi_get_value_int64(env, argv[3], &to) != napi_ok || napi_get_value_string_latin1(env, argv[4], prev, sizeof prev, &prev_length) != napi_ok) {
    napi_throw_type_error(env, NULL, "fill(buf: Uint8Array, layout: Int32Array, from: number, to: number, prev: string)");
    return NULL;
  }
  /* napi_get_value_string_latin1 truncates: a longer string would read as its first 64 characters, so ask for its length too. */
  size_t full_length = 0;
  if (prev_length != HEX_LENGTH || napi_get_value_string_latin1(env, argv[4], NULL, 0, &full_length) != napi_ok || full_length != HEX_LENGTH || !chain_is_lower_hex((const uint8_t*)prev, HEX_LENGTH)) {
    napi_throw_type_error(env, NULL, "fill: prev is not 64 lowercase hex characters");
    return NULL;
  }
  int64_t records = (int64_t)(layout_length / STRIDE);
  if (from < 0 || to < from || to > records) {
    napi_throw_range_error(env, NULL, "fill: from and to are not a range of the layout's records");
    return NULL;
  }
  const int64_t size = (int64_t)buf_length;
  /* The hash before the current record, kept here (not read back from buf, which the next record's writes could overlap in a bad layout). */
  char last[HEX_LENGTH];
  memcpy(last, prev, HEX_LENGTH);
  int64_t index = from;
  for (; index < to; index += 1) {
    const int32_t* entry = layout + index * STRIDE;
    /* Shared memory: each number is read once, then checked and used as read. */
    const int64_t start = entry[AT_START];
    const int64_t prev_at = entry[AT_PREV];
    const int64_t sig_at = entry[AT_SIG];
    const int64_t body_end = entry[AT_BODY_END];
    if (sig_at >= 0) break;
    if (start < 0 || body_end < start || body_end + HASH_OPEN_LENGTH + HEX_LENGTH > size) return layout_error(env, index, "its body or hash field is outside the batch");
    if (prev_at < start || prev_at + HEX_LENGTH > body_end) return layout_error(env, index, "its prev field is outside its body");
    uint8_t* hash_at = buf + body_end + HASH_OPEN_LENGTH;
    memcpy(buf + prev_at, last, HEX_LENGTH);
    if (!chain_sha256_hex(buf + start, (size_t)(body_end - start), (uint8_t*)last)) {
      napi_throw_error(env, NULL, "fill: sha256 failed");
      return NULL;
    }
    memcpy(hash_at, last, HEX_LENGTH);
  }
  napi_value result;
  napi_create_int64(env, index, &result);
  return result;
}

/* The module's exports: `fill` (above) and `check` (chain-check.c). */
NAPI_MODULE_INIT() {
  napi_value fill_function, check_function;
  if (napi_create_function(env, "fill", NAPI_AUTO_LENGTH, fill, NULL, &fill_function) != napi_ok || napi_set_named_property(env, exports, "fill", fill_function) != napi_ok ||
      napi_create_function(env, "check", NAPI_AUTO_LENGTH, chain_check, NULL, &check_function) != napi_ok || napi_set_named_property(env, exports, "check", check_function) != napi_ok) {
    return NULL;
  }
  return exports;
}
