/*
 * forge_host.h: typed wrappers for every forge.* host call (included by forge.h).
 *
 * Each wrapper builds its request in a fresh, bounded forge_writer (freed after the call),
 * calls the import, and settles the packed answer: a result region becomes a forge_buf
 * you own (or a page/response struct holding one), an error payload becomes the failed
 * forge_status. Layouts that hold counts (kv_list, http_request) are checked end to end
 * before you can walk them. Encodings: docs/reference/abi.md §14.
 */
#ifndef FORGE_HOST_H
#define FORGE_HOST_H

/* ---- Host calls (ABI §6 and §14) ------------------------------------------------------ */

#define FORGE__IMPORT(n) __attribute__((import_module("forge"), import_name(#n))) int64_t forge_host_##n(int32_t ptr, int32_t len);
FORGE__IMPORT(log)
FORGE__IMPORT(config_get)
FORGE__IMPORT(kv_get)
FORGE__IMPORT(kv_set)
FORGE__IMPORT(kv_delete)
FORGE__IMPORT(kv_list)
FORGE__IMPORT(http_request)
FORGE__IMPORT(file_read)
FORGE__IMPORT(file_write)
FORGE__IMPORT(emit_event)
FORGE__IMPORT(time_now)
FORGE__IMPORT(random_get)
FORGE__IMPORT(call_plugin)
FORGE__IMPORT(register_extension)

/* Takes a host call's packed answer: a result region into `out` (or freed when out is
 * NULL), an error payload into the status (and freed). */
static inline forge_status forge__settle(int64_t answer, forge_buf *out) {
  uint64_t r = (uint64_t)answer;
  uint8_t *ptr = (uint8_t *)(uintptr_t)(uint32_t)(r >> 32);
  uint32_t len = (uint32_t)r & FORGE_MAX_REGION;
  if (out != NULL) { out->ptr = NULL; out->len = 0; }
  if (len == 0) ptr = NULL;
  if (r & FORGE__ERROR_FLAG) {
    if (ptr == NULL) return forge_status_fail("PDK_OUT_OF_MEMORY", "the host could not allocate its error payload");
    forge_status s;
    s.ok = false;
    uint32_t c = 0;
    while (c < len && ptr[c] != '\n') c++;
    forge__copy_text(s.code, FORGE_CODE_MAX, ptr, c);
    uint32_t m = c < len ? c + 1 : len;
    forge__copy_text(s.message, FORGE_STATUS_MESSAGE_MAX, ptr + m, len - m);
    free(ptr);
    return s;
  }
  if (out != NULL) { out->ptr = ptr; out->len = len; }
  else free(ptr);
  return forge_status_success();
}

static inline int32_t forge__i32(const void *p) { return (int32_t)(uintptr_t)p; }

/* Calls `fn` with a request one writer built; settles the answer. */
#define FORGE__CALL_WRITER(fn, w, out)                                           \
  do {                                                                           \
    if ((w)->failed) { forge_status s_ = forge_writer_status(w); forge_writer_free(w); return s_; } \
    int64_t a_ = fn(forge__i32((w)->data), (int32_t)(w)->len);                   \
    forge_writer_free(w);                                                        \
    return forge__settle(a_, out);                                               \
  } while (0)

typedef enum forge_log_level { FORGE_TRACE = 0, FORGE_DEBUG = 1, FORGE_INFO = 2, FORGE_WARN = 3, FORGE_ERROR = 4 } forge_log_level;

/** forge.log: one record (message at most 16 KiB; FO_ABI_INPUT_TOO_LARGE beyond, FO_SYSCALL_RATE_LIMITED when over the rate). */
static inline forge_status forge_log(forge_log_level level, forge_slice message) {
  forge_writer w;
  forge_writer_init(&w, 0);
  uint8_t b = (uint8_t)level;
  forge_write(&w, &b, 1);
  forge_write_slice(&w, message);
  FORGE__CALL_WRITER(forge_host_log, &w, NULL);
}

/** forge.config_get: the operator's value for `key` into `value` (FO_SYSCALL_CONFIG_NOT_FOUND when none). */
static inline forge_status forge_config_get(forge_slice key, forge_buf *value) {
  return forge__settle(forge_host_config_get(forge__i32(key.ptr), (int32_t)key.len), value);
}

/** forge.kv_get: the value under `key` (FO_SYSCALL_KV_NOT_FOUND when absent). Needs forge.kv_get. */
static inline forge_status forge_kv_get(forge_slice key, forge_buf *value) {
  return forge__settle(forge_host_kv_get(forge__i32(key.ptr), (int32_t)key.len), value);
}

/** forge.kv_set: stores `value` under `key` (on disk when it returns). Needs forge.kv_set. */
static inline forge_status forge_kv_set(forge_slice key, forge_slice value) {
  forge_writer w;
  forge_writer_init(&w, 0);
  forge_write_field(&w, key);
  forge_write_slice(&w, value);
  FORGE__CALL_WRITER(forge_host_kv_set, &w, NULL);
}

/** forge.kv_delete: removes `key`; `*removed` says whether it was there (may be NULL). Needs forge.kv_delete. */
static inline forge_status forge_kv_delete(forge_slice key, bool *removed) {
  forge_buf out;
  forge_status s = forge__settle(forge_host_kv_delete(forge__i32(key.ptr), (int32_t)key.len), &out);
  if (!s.ok) return s;
  bool valid = out.len == 1 && out.ptr[0] <= 1;
  if (valid && removed != NULL) *removed = out.ptr[0] == 1;
  forge_buf_free(&out);
  return valid ? s : forge_status_fail("PDK_BAD_RESPONSE", "forge.kv_delete answered other than one byte 0 or 1");
}

/** One page of forge.kv_list: walk it with forge_kv_next, then pass `cursor` back for the next page. */
typedef struct forge_kv_page {
  forge_buf raw;
  uint32_t count;       /* keys on this page */
  forge_slice cursor;   /* empty when the listing is complete */
  forge_reader keys;
} forge_kv_page;

/** forge.kv_list: up to `limit` keys (0: the host's maximum) starting with `prefix`, after `cursor`. Needs forge.kv_list. */
static inline forge_status forge_kv_list(uint32_t limit, forge_slice prefix, forge_slice cursor, forge_kv_page *page) {
  memset(page, 0, sizeof *page);
  forge_writer w;
  forge_writer_init(&w, 0);
  forge_write_u32(&w, limit);
  forge_write_field(&w, prefix);
  forge_write_slice(&w, cursor);
  if (w.failed) { forge_status s = forge_writer_status(&w); forge_writer_free(&w); return s; }
  int64_t answer = forge_host_kv_list(forge__i32(w.data), (int32_t)w.len);
  forge_writer_free(&w);
  forge_status s = forge__settle(answer, &page->raw);
  if (!s.ok) return s;
  /* Check the whole layout once, so forge_kv_next cannot run off the end. */
  forge_reader r = forge_reader_of(forge_buf_slice(page->raw));
  forge_slice key;
  bool valid = forge_read_u32(&r, &page->count);
  page->keys = r;
  for (uint32_t i = 0; valid && i < page->count; i++) valid = forge_read_field(&r, &key);
  valid = valid && forge_read_field(&r, &page->cursor) && r.pos == r.len;
  if (valid) return s;
  forge_buf_free(&page->raw);
  memset(page, 0, sizeof *page);
  return forge_status_fail("PDK_BAD_RESPONSE", "forge.kv_list answered a malformed page");
}

/** The next key of a page. @return false after the last */
static inline bool forge_kv_next(forge_kv_page *page, forge_slice *key) {
  if (page->count == 0) return false;
  page->count--;
  return forge_read_field(&page->keys, key);
}

static inline void forge_kv_page_free(forge_kv_page *page) {
  forge_buf_free(&page->raw);
  memset(page, 0, sizeof *page);
}

/** One request header. */
typedef struct forge_header {
  forge_slice name, value;
} forge_header;

/** An outbound request for forge.http_request. */
typedef struct forge_http_request {
  forge_slice method;             /* GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS */
  forge_slice url;                /* absolute http:// or https:// */
  const forge_header *headers;    /* header_count of them (at most 64) */
  uint32_t header_count;
  uint32_t timeout_ms;            /* 0: the host's default (10 s) */
  bool follow_redirects;
  forge_slice body;
} forge_http_request;

/** A response: status, headers (walk with forge_http_next_header), final URL, body. Views into `raw`. */
typedef struct forge_http_response {
  forge_buf raw;
  uint32_t status;
  uint32_t header_count;
  forge_slice url;
  forge_slice body;
  forge_reader headers;
} forge_http_response;

/** forge.http_request (needs network = ["connect"] and the host in allowed_hosts). */
static inline forge_status forge_http(const forge_http_request *req, forge_http_response *res) {
  memset(res, 0, sizeof *res);
  forge_writer w;
  forge_writer_init(&w, 0);
  forge_write_field(&w, req->method);
  forge_write_field(&w, req->url);
  forge_write_u32(&w, req->header_count);
  for (uint32_t i = 0; i < req->header_count; i++) {
    forge_write_field(&w, req->headers[i].name);
    forge_write_field(&w, req->headers[i].value);
  }
  forge_write_u32(&w, req->timeout_ms);
  forge_write_u32(&w, req->follow_redirects ? 1u : 0u);
  forge_write_slice(&w, req->body);
  if (w.failed) { forge_status s = forge_writer_status(&w); forge_writer_free(&w); return s; }
  int64_t answer = forge_host_http_request(forge__i32(w.data), (int32_t)w.len);
  forge_writer_free(&w);
  forge_status s = forge__settle(answer, &res->raw);
  if (!s.ok) return s;
  forge_reader r = forge_reader_of(forge_buf_slice(res->raw));
  forge_slice skip;
  bool valid = forge_read_u32(&r, &res->status) && forge_read_u32(&r, &res->header_count);
  res->headers = r;
  for (uint32_t i = 0; valid && i < res->header_count; i++) valid = forge_read_field(&r, &skip) && forge_read_field(&r, &skip);
  valid = valid && forge_read_field(&r, &res->url);
  if (valid) { res->body = forge_read_rest(&r); return s; }
  forge_buf_free(&res->raw);
  memset(res, 0, sizeof *res);
  return forge_status_fail("PDK_BAD_RESPONSE", "forge.http_request answered a malformed response");
}

/** The next response header, in the order received. @return false after the last */
static inline bool forge_http_next_header(forge_http_response *res, forge_header *header) {
  if (res->header_count == 0) return false;
  res->header_count--;
  return forge_read_field(&res->headers, &header->name) && forge_read_field(&res->headers, &header->value);
}

static inline void forge_http_response_free(forge_http_response *res) {
  forge_buf_free(&res->raw);
  memset(res, 0, sizeof *res);
}

/** forge.file_read: a whole file at a guest path inside a volume (needs filesystem "read"). */
static inline forge_status forge_file_read(forge_slice path, forge_buf *data) {
  return forge__settle(forge_host_file_read(forge__i32(path.ptr), (int32_t)path.len), data);
}

typedef enum forge_file_mode { FORGE_FILE_REPLACE = 0, FORGE_FILE_APPEND = 1, FORGE_FILE_CREATE = 2 } forge_file_mode;

/** forge.file_write: replace, append to or create a file in a rw volume (needs filesystem "write"). */
static inline forge_status forge_file_write(forge_slice path, forge_file_mode mode, forge_slice data) {
  forge_writer w;
  forge_writer_init(&w, 0);
  forge_write_field(&w, path);
  forge_write_u32(&w, (uint32_t)mode);
  forge_write_slice(&w, data);
  FORGE__CALL_WRITER(forge_host_file_write, &w, NULL);
}

/** forge.emit_event: tells the host's listeners (needs forge.emit_event). */
static inline forge_status forge_emit_event(forge_slice name, forge_slice payload) {
  forge_writer w;
  forge_writer_init(&w, 0);
  forge_write_field(&w, name);
  forge_write_slice(&w, payload);
  FORGE__CALL_WRITER(forge_host_emit_event, &w, NULL);
}

/** forge.time_now: wall-clock ns since the epoch and monotonic ns (either pointer may be NULL). */
static inline forge_status forge_time_now(uint64_t *wall_ns, uint64_t *monotonic_ns) {
  forge_buf out;
  forge_status s = forge__settle(forge_host_time_now(0, 0), &out);
  if (!s.ok) return s;
  if (out.len != 16) { forge_buf_free(&out); return forge_status_fail("PDK_BAD_RESPONSE", "forge.time_now answered other than 16 bytes"); }
  uint64_t v[2] = {0, 0};
  for (int i = 0; i < 2; i++)
    for (int b = 7; b >= 0; b--) v[i] = v[i] << 8 | out.ptr[i * 8 + b];
  if (wall_ns != NULL) *wall_ns = v[0];
  if (monotonic_ns != NULL) *monotonic_ns = v[1];
  forge_buf_free(&out);
  return s;
}

/** forge.random_get: fills `dst` with `count` secure random bytes (at most 64 KiB). */
static inline forge_status forge_random(void *dst, uint32_t count) {
  uint8_t req[4] = {(uint8_t)count, (uint8_t)(count >> 8), (uint8_t)(count >> 16), (uint8_t)(count >> 24)};
  forge_buf out;
  forge_status s = forge__settle(forge_host_random_get(forge__i32(req), 4), &out);
  if (!s.ok) return s;
  bool valid = out.len == count;
  if (valid && count > 0) memcpy(dst, out.ptr, count);
  forge_buf_free(&out);
  return valid ? s : forge_status_fail("PDK_BAD_RESPONSE", "forge.random_get answered another byte count");
}

/** forge.call_plugin: calls `export_name` of a declared dependency (needs forge.call_plugin). */
static inline forge_status forge_call_plugin(forge_slice plugin, forge_slice export_name, forge_slice input, forge_buf *output) {
  forge_writer w;
  forge_writer_init(&w, 0);
  forge_write_field(&w, plugin);
  forge_write_field(&w, export_name);
  forge_write_slice(&w, input);
  FORGE__CALL_WRITER(forge_host_call_plugin, &w, output);
}

/** forge.register_extension: registers `export_name` as an implementation of extension `point`. */
static inline forge_status forge_register_extension(forge_slice point, forge_slice export_name) {
  forge_writer w;
  forge_writer_init(&w, 0);
  forge_write_field(&w, point);
  forge_write_field(&w, export_name);
  FORGE__CALL_WRITER(forge_host_register_extension, &w, NULL);
}

#endif /* FORGE_HOST_H */
