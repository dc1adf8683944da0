/*
 * forge_json_read.h: a JSON reader for plugin input (included by forge.h).
 *
 * A pull reader over bytes you hold (the call's input): no tree is built and nothing is
 * allocated except the strings you ask for unescaped. It accepts exactly RFC 8259 JSON:
 * strings must be well-formed UTF-8 without raw control characters, escapes must be
 * valid (a \u escape of half a surrogate pair is refused), numbers follow the grammar
 * (no leading zeros, no NaN), nesting stops at FORGE_JSON_MAX_DEPTH, and a document is
 * one value with only whitespace after it. Any error makes the reader failed: every later
 * read returns false and forge_json_read_status says what was wrong and at which byte.
 *
 *   forge_json_reader r = forge_json_reader_of(forge_slice_of(in.ptr, in.len));
 *   forge_buf key;
 *   double total = 0;
 *   if (forge_json_object_begin_read(&r))
 *     while (forge_json_object_next(&r, &key)) {
 *       bool price = forge_json_key_is(key, "price");
 *       forge_buf_free(&key);
 *       if (price) forge_json_read_double(&r, &total); else forge_json_skip(&r);
 *     }
 *   if (!forge_json_read_end(&r)) { forge_status s = forge_json_read_status(&r); return forge_error_status(&s); }
 */
#ifndef FORGE_JSON_READ_H
#define FORGE_JSON_READ_H

/** What the next value is (FORGE_JSON_INVALID: the reader failed or no value follows). */
typedef enum forge_json_type {
  FORGE_JSON_INVALID = 0,
  FORGE_JSON_NULL,
  FORGE_JSON_BOOL,
  FORGE_JSON_NUMBER,
  FORGE_JSON_STRING,
  FORGE_JSON_ARRAY,
  FORGE_JSON_OBJECT,
} forge_json_type;

typedef struct forge_json_reader {
  const uint8_t *p, *start, *end;
  uint32_t depth;
  uint32_t has_items; /* bit d: the container at depth d has given an item already */
  const char *error;  /* NULL until the reader fails */
} forge_json_reader;

static inline forge_json_reader forge_json_reader_of(forge_slice s) {
  forge_json_reader r = {s.ptr, s.ptr, s.ptr + s.len, 0, 0, NULL};
  return r;
}

static inline bool forge__jr_fail(forge_json_reader *r, const char *why) {
  if (r->error == NULL) r->error = why;
  return false;
}

static inline void forge__jr_ws(forge_json_reader *r) {
  while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')) r->p++;
}

/** The failure as a status: code PDK_JSON_INVALID, the reason and the byte offset. */
static inline forge_status forge_json_read_status(const forge_json_reader *r) {
  if (r->error == NULL) return forge_status_success();
  /* No printf: it would link several KiB of formatting code into every plugin. */
  char message[160] = "input is not valid JSON: ";
  strncat(message, r->error, 100);
  strcat(message, " at byte ");
  char digits[11], *d = digits + sizeof digits;
  uint32_t at = (uint32_t)(r->p - r->start);
  *--d = '\0';
  do { *--d = (char)('0' + at % 10); at /= 10; } while (at != 0);
  strcat(message, d);
  return forge_status_fail("PDK_JSON_INVALID", message);
}

/** The type of the next value, without reading it. */
static inline forge_json_type forge_json_peek(forge_json_reader *r) {
  if (r->error != NULL) return FORGE_JSON_INVALID;
  forge__jr_ws(r);
  if (r->p >= r->end) { forge__jr_fail(r, "a value was expected, found the end"); return FORGE_JSON_INVALID; }
  switch (*r->p) {
    case 'n': return FORGE_JSON_NULL;
    case 't': case 'f': return FORGE_JSON_BOOL;
    case '"': return FORGE_JSON_STRING;
    case '[': return FORGE_JSON_ARRAY;
    case '{': return FORGE_JSON_OBJECT;
    default:
      if (*r->p == '-' || (*r->p >= '0' && *r->p <= '9')) return FORGE_JSON_NUMBER;
      forge__jr_fail(r, "a value was expected");
      return FORGE_JSON_INVALID;
  }
}

static inline bool forge__jr_word(forge_json_reader *r, const char *word, uint32_t n) {
  if ((uint32_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0) return forge__jr_fail(r, "a literal is misspelt");
  r->p += n;
  return true;
}

static inline bool forge_json_read_null(forge_json_reader *r) {
  return forge_json_peek(r) == FORGE_JSON_NULL ? forge__jr_word(r, "null", 4) : forge__jr_fail(r, "null was expected");
}

static inline bool forge_json_read_bool(forge_json_reader *r, bool *out) {
  if (forge_json_peek(r) != FORGE_JSON_BOOL) return forge__jr_fail(r, "true or false was expected");
  *out = *r->p == 't';
  return *out ? forge__jr_word(r, "true", 4) : forge__jr_word(r, "false", 5);
}

/** Reads a number and gives its text exactly as written (validated against the grammar). */
static inline bool forge_json_read_number_text(forge_json_reader *r, forge_slice *out) {
  if (forge_json_peek(r) != FORGE_JSON_NUMBER) return forge__jr_fail(r, "a number was expected");
  const uint8_t *s = r->p, *p = r->p, *e = r->end;
  if (p < e && *p == '-') p++;
  if (p < e && *p == '0') p++;
  else if (p < e && *p >= '1' && *p <= '9') while (p < e && *p >= '0' && *p <= '9') p++;
  else { r->p = p; return forge__jr_fail(r, "a digit was expected"); }
  if (p < e && *p == '.') {
    p++;
    if (p >= e || *p < '0' || *p > '9') { r->p = p; return forge__jr_fail(r, "a digit was expected after the point"); }
    while (p < e && *p >= '0' && *p <= '9') p++;
  }
  if (p < e && (*p == 'e' || *p == 'E')) {
    p++;
    if (p < e && (*p == '+' || *p == '-')) p++;
    if (p >= e || *p < '0' || *p > '9') { r->p = p; return forge__jr_fail(r, "a digit was expected in the exponent"); }
    while (p < e && *p >= '0' && *p <= '9') p++;
  }
  if (p - s > 1024) return forge__jr_fail(r, "a number is longer than 1024 bytes");
  r->p = p;
  *out = forge_slice_of(s, (uint32_t)(p - s));
  return true;
}

/** Reads a number as a double (strtod: nearest, overflow to infinity). */
static inline bool forge_json_read_double(forge_json_reader *r, double *out) {
  forge_slice text;
  if (!forge_json_read_number_text(r, &text)) return false;
  char copy[1025];
  memcpy(copy, text.ptr, text.len);
  copy[text.len] = '\0';
  *out = strtod(copy, NULL);
  return true;
}

/** Reads an integer in int64 range; a fraction, an exponent or overflow is an error. */
static inline bool forge_json_read_int(forge_json_reader *r, int64_t *out) {
  forge_slice text;
  if (!forge_json_read_number_text(r, &text)) return false;
  bool negative = text.ptr[0] == '-';
  uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, v = 0;
  for (uint32_t i = negative ? 1 : 0; i < text.len; i++) {
    uint8_t c = text.ptr[i];
    if (c < '0' || c > '9') return forge__jr_fail(r, "an integer was expected");
    if (v > (limit - (uint64_t)(c - '0')) / 10) return forge__jr_fail(r, "an integer is out of the int64 range");
    v = v * 10 + (uint64_t)(c - '0');
  }
  *out = negative ? (int64_t)(0 - v) : (int64_t)v;
  return true;
}

#include "forge_json_string.h"

/** Writes a number given as JSON text (as forge_json_read_number_text gives it), checked first. */
static inline bool forge_json_number_text(forge_json *j, forge_slice text) {
  forge_json_reader r = forge_json_reader_of(text);
  forge_slice checked;
  if (!forge_json_read_number_text(&r, &checked) || r.p != r.end) {
    return forge__writer_fail(j->w, FORGE_WRITER_BAD_JSON);
  }
  return forge__json_item(j, false) && forge_write(j->w, text.ptr, text.len);
}

#endif /* FORGE_JSON_READ_H */
