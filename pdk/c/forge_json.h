/*
 * forge_json.h: a minimal JSON writer on forge_writer (included by forge.h).
 *
 * It writes, it does not parse: a plugin that takes JSON in brings its own parser (the
 * PDK keeps to what every plugin needs). Commas and colons are placed for you; strings
 * are escaped, and bytes that are not well-formed UTF-8 become U+FFFD, so the output is
 * always valid JSON text. Every write goes through the writer's limit; after a failure
 * (limit, malloc, nesting past FORGE_JSON_MAX_DEPTH, an end without a begin) every
 * write is refused and forge_ok_writer answers an error. A value in an object without
 * its key, or a key in an array, is such a misuse, so what it writes is valid JSON
 * once every container is closed.
 *
 *   forge_writer w; forge_json j;
 *   forge_writer_init(&w, 4096);
 *   forge_json_init(&j, &w);
 *   forge_json_object_begin(&j);
 *   forge_json_key(&j, FORGE_LIT("renders")); forge_json_uint(&j, 3);
 *   forge_json_object_end(&j);
 *   return forge_ok_writer(&w);   // {"renders":3}
 */
#ifndef FORGE_JSON_H
#define FORGE_JSON_H

typedef struct forge_json {
  forge_writer *w;
  uint32_t depth;
  uint32_t has_items; /* bit d: the container at depth d already holds an item */
  uint32_t objects;   /* bit d: the container at depth d is an object (else an array) */
  bool after_key;
} forge_json;

static inline void forge_json_init(forge_json *j, forge_writer *w) {
  j->w = w;
  j->depth = 0;
  j->has_items = 0;
  j->objects = 0;
  j->after_key = false;
}

/* Writes the comma a new item needs, unless it is the value of a key. A value in an
 * object must follow a key; a key must be in an object (`key` says which this is). */
static inline bool forge__json_item(forge_json *j, bool key) {
  if (j->after_key) {
    j->after_key = false;
    return key ? forge__writer_fail(j->w, FORGE_WRITER_BAD_JSON) : !j->w->failed;
  }
  if (j->depth == 0) return key ? forge__writer_fail(j->w, FORGE_WRITER_BAD_JSON) : !j->w->failed;
  uint32_t bit = 1u << (j->depth - 1);
  if (((j->objects & bit) != 0) != key) return forge__writer_fail(j->w, FORGE_WRITER_BAD_JSON);
  bool comma = (j->has_items & bit) != 0;
  j->has_items |= bit;
  return comma ? forge_write(j->w, ",", 1) : !j->w->failed;
}

static inline bool forge__json_open(forge_json *j, const char *bracket) {
  if (!forge__json_item(j, false)) return false;
  if (j->depth >= FORGE_JSON_MAX_DEPTH) return forge__writer_fail(j->w, FORGE_WRITER_BAD_JSON);
  j->depth++;
  uint32_t bit = 1u << (j->depth - 1);
  j->has_items &= ~bit;
  if (bracket[0] == '{') j->objects |= bit;
  else j->objects &= ~bit;
  return forge_write(j->w, bracket, 1);
}

static inline bool forge__json_close(forge_json *j, const char *bracket) {
  bool object = j->depth > 0 && (j->objects & (1u << (j->depth - 1))) != 0;
  if (j->depth == 0 || j->after_key || object != (bracket[0] == '}')) return forge__writer_fail(j->w, FORGE_WRITER_BAD_JSON);
  j->depth--;
  return forge_write(j->w, bracket, 1);
}

static inline bool forge_json_object_begin(forge_json *j) { return forge__json_open(j, "{"); }
static inline bool forge_json_object_end(forge_json *j) { return forge__json_close(j, "}"); }
static inline bool forge_json_array_begin(forge_json *j) { return forge__json_open(j, "["); }
static inline bool forge_json_array_end(forge_json *j) { return forge__json_close(j, "]"); }

/* The length of the well-formed UTF-8 sequence at p (n bytes left), or 0 when ill-formed. */
static inline uint32_t forge__utf8_len(const uint8_t *p, uint32_t n) {
  uint8_t b = p[0];
  uint32_t len = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 0;
  if (len == 0 || len > n) return 0;
  uint32_t cp = len == 1 ? b : len == 2 ? (b & 0x1Fu) : len == 3 ? (b & 0x0Fu) : (b & 0x07u);
  for (uint32_t i = 1; i < len; i++) {
    if ((p[i] & 0xC0) != 0x80) return 0;
    cp = cp << 6 | (p[i] & 0x3Fu);
  }
  /* Overlong forms, surrogates and code points past U+10FFFF are ill-formed. */
  static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

/** True when `s` is well-formed UTF-8. */
static inline bool forge_utf8_valid(forge_slice s) {
  for (uint32_t i = 0; i < s.len;) {
    uint32_t k = forge__utf8_len(s.ptr + i, s.len - i);
    if (k == 0) return false;
    i += k;
  }
  return true;
}

/* A quoted, escaped string. */
static inline bool forge__json_quoted(forge_writer *w, forge_slice s) {
  static const char hex[] = "0123456789abcdef";
  if (!forge_write(w, "\"", 1)) return false;
  uint32_t run = 0; /* bytes at s.ptr + i - run that need no escape, written in one go */
  for (uint32_t i = 0; i < s.len;) {
    uint8_t b = s.ptr[i];
    uint32_t k = forge__utf8_len(s.ptr + i, s.len - i);
    if (k > 1 || (k == 1 && b >= 0x20 && b != '"' && b != '\\')) { i += k; run += k; continue; }
    forge_write(w, s.ptr + i - run, run);
    run = 0;
    if (k == 0) forge_write(w, "\\ufffd", 6);
    else if (b == '"') forge_write(w, "\\\"", 2);
    else if (b == '\\') forge_write(w, "\\\\", 2);
    else if (b == '\n') forge_write(w, "\\n", 2);
    else if (b == '\r') forge_write(w, "\\r", 2);
    else if (b == '\t') forge_write(w, "\\t", 2);
    else {
      char u[6] = {'\\', 'u', '0', '0', hex[b >> 4], hex[b & 15]};
      forge_write(w, u, 6);
    }
    i++;
  }
  forge_write(w, s.ptr + s.len - run, run);
  return forge_write(w, "\"", 1);
}

/** An object key; the next write is its value. */
static inline bool forge_json_key(forge_json *j, forge_slice key) {
  if (!forge__json_item(j, true) || !forge__json_quoted(j->w, key) || !forge_write(j->w, ":", 1)) return false;
  j->after_key = true;
  return true;
}

static inline bool forge_json_string(forge_json *j, forge_slice s) { return forge__json_item(j, false) && forge__json_quoted(j->w, s); }

static inline bool forge_json_uint(forge_json *j, uint64_t v) {
  char digits[20];
  uint32_t n = 0;
  do { digits[sizeof digits - 1 - n++] = (char)('0' + v % 10); v /= 10; } while (v > 0);
  return forge__json_item(j, false) && forge_write(j->w, digits + sizeof digits - n, n);
}

static inline bool forge_json_int(forge_json *j, int64_t v) {
  if (v >= 0) return forge_json_uint(j, (uint64_t)v);
  if (!forge__json_item(j, false) || !forge_write(j->w, "-", 1)) return false;
  j->after_key = true; /* the digits follow the sign without a comma */
  return forge_json_uint(j, (uint64_t)0 - (uint64_t)v);
}

static inline bool forge_json_bool(forge_json *j, bool v) { return forge__json_item(j, false) && forge_write(j->w, v ? "true" : "false", v ? 4 : 5); }
static inline bool forge_json_null(forge_json *j) { return forge__json_item(j, false) && forge_write(j->w, "null", 4); }

#endif /* FORGE_JSON_H */
