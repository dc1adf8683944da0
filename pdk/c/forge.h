/*
 * forge.h: the ForgeOne plugin development kit for C (forge/1 ABI).
 *
 * Header-only (forge.h includes forge_host.h, the host-call wrappers, and forge_json.h,
 * the JSON writer), C99, for clang --target=wasm32-wasi with wasi-libc. Include it in the one
 * source file of a plugin: it defines the exports forge_alloc and forge_free (on malloc
 * and free). A plugin of several files defines FORGE_PDK_NO_ALLOCATOR before including
 * it in every file but one. Everything else is static inline: a host call the plugin
 * does not use is not imported, so the module asks for no more than it calls.
 *
 * Build a reactor (no main):
 *   clang --target=wasm32-wasi -mexec-model=reactor -O2 -Wl,--strip-all -o plugin.wasm plugin.c
 *
 * The contract this implements is docs/reference/abi.md; the guide is docs/guide/c.md.
 * Rules kept throughout: every buffer goes with its length; every host call returns a
 * forge_status the caller checks; every region this header hands you (forge_buf) is
 * yours to release with forge_buf_free.
 */
#ifndef FORGE_H
#define FORGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- Limits ------------------------------------------------------------------------ */

/** The largest region a packed result can name: 2^30 - 1 bytes (ABI §3). */
#define FORGE_MAX_REGION 0x3FFFFFFFu
/** The longest error code: 64 bytes of A-Z a-z 0-9 _ . : - (ABI §5). */
#define FORGE_CODE_MAX 64
/** Bytes of a host error message a forge_status keeps (the host sends at most 4096). */
#define FORGE_STATUS_MESSAGE_MAX 1024
/** Bytes of message forge_error puts in an error payload (cut at a character boundary). */
#define FORGE_ERROR_MESSAGE_MAX 4096
/** Nesting depth the JSON writer accepts. */
#define FORGE_JSON_MAX_DEPTH 32

/* ---- Byte views and owned buffers --------------------------------------------------- */

/** A view of bytes someone else owns. */
typedef struct forge_slice {
  const uint8_t *ptr;
  uint32_t len;
} forge_slice;

/** A view of a string literal: FORGE_LIT("count"). */
#define FORGE_LIT(s) ((forge_slice){(const uint8_t *)(s), (uint32_t)(sizeof(s) - 1)})

/** A view of `len` bytes at `ptr`. */
static inline forge_slice forge_slice_of(const void *ptr, uint32_t len) {
  forge_slice s = {(const uint8_t *)ptr, len};
  return s;
}

/** A view of a NUL-terminated string (without the NUL; cut at FORGE_MAX_REGION). */
static inline forge_slice forge_cstr(const char *s) {
  size_t n = s == NULL ? 0 : strlen(s);
  return forge_slice_of(s, n > FORGE_MAX_REGION ? FORGE_MAX_REGION : (uint32_t)n);
}

/** Bytes you own, from malloc (a host-call result, a finished writer). */
typedef struct forge_buf {
  uint8_t *ptr;
  uint32_t len;
} forge_buf;

/** Releases a buffer and empties it (safe to call twice). */
static inline void forge_buf_free(forge_buf *b) {
  free(b->ptr);
  b->ptr = NULL;
  b->len = 0;
}

/** The bytes of a buffer, as a view. */
static inline forge_slice forge_buf_slice(forge_buf b) { return forge_slice_of(b.ptr, b.len); }

/* ---- Statuses: what every host call returns ------------------------------------------ */

/**
 * The outcome of a host call. On failure `code` holds the host's code (e.g.
 * "FO_SYSCALL_KV_NOT_FOUND", "FO_ABI_HOST_DENIED", docs/reference/errors.md) or one of the
 * PDK's own, which never start with FO_:
 *   PDK_OUT_OF_MEMORY  malloc failed, or the host could not allocate its answer
 *   PDK_TOO_LARGE      a request would exceed FORGE_MAX_REGION or the writer's limit
 *   PDK_BAD_JSON       the JSON writer was misused (nesting past FORGE_JSON_MAX_DEPTH,
 *                      an end without a begin, a key outside an object)
 *   PDK_BAD_RESPONSE   the host's answer does not have the documented layout
 */
typedef struct forge_status {
  bool ok;
  char code[FORGE_CODE_MAX + 1];              /* NUL-terminated; "" when ok */
  char message[FORGE_STATUS_MESSAGE_MAX + 1]; /* NUL-terminated; cut at a character boundary */
} forge_status;

/** True when `s` failed with `code`. */
static inline bool forge_is(const forge_status *s, const char *code) { return !s->ok && strcmp(s->code, code) == 0; }

/* The longest prefix of [p, p+n) that does not end inside a UTF-8 sequence, at most `max` bytes. */
static inline uint32_t forge__utf8_cut(const uint8_t *p, uint32_t n, uint32_t max) {
  if (n <= max) return n;
  uint32_t cut = max;
  while (cut > 0 && (p[cut] & 0xC0) == 0x80) cut--; /* p[cut] is the first byte left out */
  return cut;
}

static inline void forge__copy_text(char *dst, uint32_t cap, const uint8_t *src, uint32_t n) {
  uint32_t k = forge__utf8_cut(src, n, cap);
  memcpy(dst, src, k);
  dst[k] = '\0';
}

/** A failed status with the PDK's code. */
static inline forge_status forge_status_fail(const char *code, const char *message) {
  forge_status s;
  s.ok = false;
  forge_slice c = forge_cstr(code), m = forge_cstr(message);
  forge__copy_text(s.code, FORGE_CODE_MAX, c.ptr, c.len);
  forge__copy_text(s.message, FORGE_STATUS_MESSAGE_MAX, m.ptr, m.len);
  return s;
}

static inline forge_status forge_status_success(void) {
  forge_status s;
  s.ok = true;
  s.code[0] = '\0';
  s.message[0] = '\0';
  return s;
}

/* ---- Writer: a growable, bounded byte buffer (requests, outputs, JSON) --------------- */

/** Why a writer failed. */
typedef enum forge_writer_failure { FORGE_WRITER_LIMIT = 1, FORGE_WRITER_NO_MEMORY = 2, FORGE_WRITER_BAD_JSON = 3 } forge_writer_failure;

/** Appends bytes up to `limit`; after any failure every append is refused. */
typedef struct forge_writer {
  uint8_t *data;
  uint32_t len, cap, limit;
  bool failed;
  forge_writer_failure failure; /* why, when failed */
} forge_writer;

static inline bool forge__writer_fail(forge_writer *w, forge_writer_failure why) {
  if (!w->failed) w->failure = why;
  w->failed = true;
  return false;
}

/** An empty writer that holds at most `limit` bytes (0: FORGE_MAX_REGION). */
static inline void forge_writer_init(forge_writer *w, uint32_t limit) {
  memset(w, 0, sizeof *w);
  w->limit = limit == 0 || limit > FORGE_MAX_REGION ? FORGE_MAX_REGION : limit;
}

/** Appends `n` bytes. @return false (and the writer is failed) past the limit or out of memory */
static inline bool forge_write(forge_writer *w, const void *p, uint32_t n) {
  if (w->failed) return false;
  if (n > w->limit - w->len) return forge__writer_fail(w, FORGE_WRITER_LIMIT);
  if (n > w->cap - w->len) {
    uint32_t cap = w->cap < 64 ? 64 : w->cap;
    while (cap - w->len < n) cap = cap > w->limit / 2 ? w->limit : cap * 2;
    uint8_t *grown = (uint8_t *)realloc(w->data, cap);
    if (grown == NULL) return forge__writer_fail(w, FORGE_WRITER_NO_MEMORY);
    w->data = grown;
    w->cap = cap;
  }
  if (n > 0) memcpy(w->data + w->len, p, n);
  w->len += n;
  return true;
}

static inline bool forge_write_slice(forge_writer *w, forge_slice s) { return forge_write(w, s.ptr, s.len); }

/** Appends a u32, little-endian (the host-call encoding). */
static inline bool forge_write_u32(forge_writer *w, uint32_t v) {
  uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
  return forge_write(w, b, 4);
}

/** Appends a `field`: a u32 length, then the bytes. */
static inline bool forge_write_field(forge_writer *w, forge_slice s) { return forge_write_u32(w, s.len) && forge_write_slice(w, s); }

/** Releases what the writer holds. */
static inline void forge_writer_free(forge_writer *w) {
  free(w->data);
  forge_writer_init(w, w->limit);
}

/** The status a failed writer stands for. */
static inline forge_status forge_writer_status(const forge_writer *w) {
  if (!w->failed) return forge_status_success();
  if (w->failure == FORGE_WRITER_NO_MEMORY) return forge_status_fail("PDK_OUT_OF_MEMORY", "malloc failed while writing");
  if (w->failure == FORGE_WRITER_BAD_JSON) return forge_status_fail("PDK_BAD_JSON", "the JSON writer was misused: too deep, unbalanced, or a key outside an object");
  return forge_status_fail("PDK_TOO_LARGE", "the bytes written exceed the writer's limit");
}

/* ---- Reader: bounds-checked decoding of host answers -------------------------------- */

typedef struct forge_reader {
  const uint8_t *p;
  uint32_t len, pos;
  bool failed;
} forge_reader;

static inline forge_reader forge_reader_of(forge_slice s) {
  forge_reader r = {s.ptr, s.len, 0, false};
  return r;
}

/** Reads a little-endian u32. @return false (reader failed) when fewer than 4 bytes are left */
static inline bool forge_read_u32(forge_reader *r, uint32_t *v) {
  if (r->failed || r->len - r->pos < 4) { r->failed = true; return false; }
  const uint8_t *b = r->p + r->pos;
  *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
  r->pos += 4;
  return true;
}

/** Reads a `field` as a view into the reader's bytes. */
static inline bool forge_read_field(forge_reader *r, forge_slice *out) {
  uint32_t n;
  if (!forge_read_u32(r, &n)) return false;
  if (n > r->len - r->pos) { r->failed = true; return false; }
  *out = forge_slice_of(r->p + r->pos, n);
  r->pos += n;
  return true;
}

/** The bytes left (the `rest` piece); the reader is then at its end. */
static inline forge_slice forge_read_rest(forge_reader *r) {
  forge_slice s = forge_slice_of(r->p + r->pos, r->failed ? 0 : r->len - r->pos);
  r->pos = r->len;
  return s;
}

/* ---- Exports: allocator, callables, lifecycle ---------------------------------------- */

#ifndef FORGE_PDK_NO_ALLOCATOR
/* The host asks for regions with forge_alloc and returns ours with forge_free (ABI §2).
 * malloc never answers 0 for a real block, and 0 is forge/1's "out of memory". */
__attribute__((export_name("forge_alloc"))) int32_t forge_alloc(int32_t len) {
  return (int32_t)(uintptr_t)malloc((size_t)(uint32_t)len);
}
__attribute__((export_name("forge_free"))) void forge_free(int32_t ptr, int32_t len) {
  (void)len;
  free((void *)(uintptr_t)(uint32_t)ptr);
}
#endif

/** What a callable returns: an output, or an error payload. Build it with forge_ok_* or forge_error*. */
typedef struct forge_result {
  uint64_t packed;
} forge_result;

#define FORGE__ERROR_FLAG 0x80000000u
#define FORGE__KEEP_FLAG 0x40000000u

static inline forge_result forge__pack(const void *ptr, uint32_t len, uint32_t flags) {
  forge_result r = {((uint64_t)(uintptr_t)ptr << 32) | flags | (len & FORGE_MAX_REGION)};
  return r;
}

/** An error without a payload: what is left when not even the payload can be allocated. */
static inline forge_result forge__error_no_payload(void) { return forge__pack(NULL, 0, FORGE__ERROR_FLAG); }

/** Success, with an empty output. */
static inline forge_result forge_ok_empty(void) { return forge__pack(NULL, 0, 0); }

/** Success with static bytes (or a buffer you reuse): the host copies them and frees nothing. */
static inline forge_result forge_ok_static(forge_slice s) {
  if (s.len > FORGE_MAX_REGION) return forge__error_no_payload();
  return forge__pack(s.ptr, s.len, FORGE__KEEP_FLAG);
}

/** Success with a buffer you hand over: the host copies it, then frees it through forge_free. */
static inline forge_result forge_ok_buf(forge_buf b) {
  if (b.len == 0) { free(b.ptr); return forge_ok_empty(); }
  return forge__pack(b.ptr, b.len, 0);
}

/**
 * An error payload "CODE\nMESSAGE" (ABI §5); the host raises FO_ABI_GUEST_ERROR with
 * details.guestCode = code. The code must be 1-64 of A-Z a-z 0-9 _ . : - (the host
 * answers FO_ABI_BAD_ERROR_PAYLOAD otherwise); the message is cut to FORGE_ERROR_MESSAGE_MAX.
 */
static inline forge_result forge_error_bytes(forge_slice code, forge_slice message) {
  uint32_t m = forge__utf8_cut(message.ptr, message.len, FORGE_ERROR_MESSAGE_MAX);
  uint32_t c = code.len > FORGE_CODE_MAX ? FORGE_CODE_MAX + 1 : code.len; /* still too long: the host refuses it */
  uint8_t *p = (uint8_t *)malloc((size_t)c + 1 + m);
  if (p == NULL) return forge__error_no_payload();
  memcpy(p, code.ptr, c);
  p[c] = '\n';
  if (m > 0) memcpy(p + c + 1, message.ptr, m);
  return forge__pack(p, c + 1 + m, FORGE__ERROR_FLAG);
}

static inline forge_result forge_error(const char *code, const char *message) { return forge_error_bytes(forge_cstr(code), forge_cstr(message)); }

/** Relays a failed host call as this call's error, with the host's code and message. */
static inline forge_result forge_error_status(const forge_status *s) {
  return forge_error_bytes(forge_cstr(s->ok ? "PDK_NOT_AN_ERROR" : s->code), forge_cstr(s->message));
}

/** The writer's bytes as the output (handed over), or an error when the writer failed. */
static inline forge_result forge_ok_writer(forge_writer *w) {
  if (w->failed) {
    forge_status s = forge_writer_status(w);
    forge_writer_free(w);
    return forge_error_status(&s);
  }
  forge_buf b = {w->data, w->len};
  w->data = NULL;
  forge_writer_free(w);
  return forge_ok_buf(b);
}

/** The input of a callable. It is yours while the function runs; the PDK frees it after. */
typedef struct forge_input {
  uint8_t *ptr; /* NULL when len is 0 */
  uint32_t len;
} forge_input;

/* Runs a callable and settles who frees the input (ABI §4). An output that starts at the
 * input's address and is not kept is the input transformed in place: the host frees it.
 * Any other output that overlaps the input is copied first, because the input is freed. */
static inline int64_t forge__run(forge_result (*fn)(forge_input), int32_t ptr, int32_t len) {
  forge_input in = {(uint8_t *)(uintptr_t)(uint32_t)ptr, (uint32_t)len};
  if (in.len == 0) in.ptr = NULL;
  forge_result r = fn(in);
  uint8_t *out = (uint8_t *)(uintptr_t)(uint32_t)(r.packed >> 32);
  uint32_t out_len = (uint32_t)r.packed & FORGE_MAX_REGION;
  uint32_t flags = (uint32_t)r.packed & (FORGE__ERROR_FLAG | FORGE__KEEP_FLAG);
  if (in.ptr == NULL) return (int64_t)r.packed;
  if (out_len > 0 && out == in.ptr && !(flags & FORGE__KEEP_FLAG)) return (int64_t)r.packed;
  if (out_len > 0 && out < in.ptr + in.len && in.ptr < out + out_len) {
    uint8_t *copy = (uint8_t *)malloc(out_len);
    if (copy == NULL) { free(in.ptr); return (int64_t)forge__error_no_payload().packed; }
    memcpy(copy, out, out_len); /* `out` points into the input: never freed on its own */
    r = forge__pack(copy, out_len, flags & FORGE__ERROR_FLAG);
  }
  free(in.ptr);
  return (int64_t)r.packed;
}

/**
 * Exports `fn` (forge_result fn(forge_input)) as the callable `name`, which must be a C
 * identifier: FORGE_EXPORT(render, render) makes the export "render".
 */
#define FORGE_EXPORT(name, fn) \
  __attribute__((export_name(#name))) int64_t forge_export_##name(int32_t ptr, int32_t len) { return forge__run(fn, ptr, len); }

/**
 * Exports `fn` (int fn(void), 0 for success) as a lifecycle step named `name`; name it in
 * plugin.toml's [entry_points]. A non-zero status fails the step (FO_ABI_LIFECYCLE_FAILED).
 */
#define FORGE_LIFECYCLE(name, fn) \
  __attribute__((export_name(#name))) int32_t forge_lifecycle_##name(void) { return (int32_t)(fn)(); }

#include "forge_host.h"
#include "forge_json.h"
#include "forge_json_read.h"

#endif /* FORGE_H */
