/*
 * forge_json_string.h: the JSON reader's strings, containers, skipping and end (included
 * by forge_json_read.h; see there for the contract).
 */
#ifndef FORGE_JSON_STRING_H
#define FORGE_JSON_STRING_H

static inline int forge__jr_hex(uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Four hex digits at p (bounds checked by the caller), or -1. */
static inline int32_t forge__jr_u4(const uint8_t *p) {
  int32_t v = 0;
  for (int i = 0; i < 4; i++) {
    int h = forge__jr_hex(p[i]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

/* Appends code point cp as UTF-8 at o (room for 4 bytes); returns the bytes written. */
static inline uint32_t forge__jr_utf8(uint8_t *o, uint32_t cp) {
  if (cp < 0x80) { o[0] = (uint8_t)cp; return 1; }
  if (cp < 0x800) { o[0] = (uint8_t)(0xC0 | cp >> 6); o[1] = (uint8_t)(0x80 | (cp & 0x3F)); return 2; }
  if (cp < 0x10000) { o[0] = (uint8_t)(0xE0 | cp >> 12); o[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F)); o[2] = (uint8_t)(0x80 | (cp & 0x3F)); return 3; }
  o[0] = (uint8_t)(0xF0 | cp >> 18); o[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F)); o[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F)); o[3] = (uint8_t)(0x80 | (cp & 0x3F));
  return 4;
}

/*
 * Reads a string. With out != NULL, its unescaped UTF-8 goes into a new buffer (yours to
 * forge_buf_free; NULL ptr when empty); with out == NULL it is only checked and skipped.
 */
static inline bool forge_json_read_string(forge_json_reader *r, forge_buf *out) {
  if (forge_json_peek(r) != FORGE_JSON_STRING) return forge__jr_fail(r, "a string was expected");
  const uint8_t *p = ++r->p, *e = r->end;
  /* Unescaping never makes a string longer than its source. */
  uint8_t *o = NULL;
  uint32_t n = 0;
  for (const uint8_t *q = p; q < e && *q != '"'; q += (*q == '\\' && q + 1 < e) ? 2 : 1) n++;
  if (out != NULL && n > 0 && (o = (uint8_t *)malloc(n)) == NULL) return forge__jr_fail(r, "out of memory for a string");
  n = 0;
  while (true) {
    if (p >= e) { free(o); r->p = p; return forge__jr_fail(r, "a string is not closed"); }
    uint8_t c = *p;
    if (c == '"') break;
    if (c < 0x20) { free(o); r->p = p; return forge__jr_fail(r, "a control character is in a string"); }
    if (c == '\\') {
      if (p + 1 >= e) { free(o); r->p = p; return forge__jr_fail(r, "a string is not closed"); }
      uint8_t x = p[1], single = 0;
      switch (x) {
        case '"': single = '"'; break;
        case '\\': single = '\\'; break;
        case '/': single = '/'; break;
        case 'b': single = '\b'; break;
        case 'f': single = '\f'; break;
        case 'n': single = '\n'; break;
        case 'r': single = '\r'; break;
        case 't': single = '\t'; break;
        case 'u': break;
        default: free(o); r->p = p; return forge__jr_fail(r, "an escape is invalid");
      }
      if (x != 'u') {
        if (o != NULL) o[n] = single;
        n++;
        p += 2;
        continue;
      }
      int32_t cp = (e - p >= 6) ? forge__jr_u4(p + 2) : -1;
      p += 6;
      if (cp >= 0xD800 && cp <= 0xDBFF) { /* a high surrogate needs its low half, escaped */
        int32_t low = (e - p >= 6 && p[0] == '\\' && p[1] == 'u') ? forge__jr_u4(p + 2) : -1;
        if (low < 0xDC00 || low > 0xDFFF) cp = -1;
        else { cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00); p += 6; }
      } else if (cp >= 0xDC00 && cp <= 0xDFFF) cp = -1;
      if (cp < 0) { free(o); r->p = p - 6; return forge__jr_fail(r, "a \\u escape is invalid or half a surrogate pair"); }
      uint8_t tmp[4];
      uint32_t k = forge__jr_utf8(tmp, (uint32_t)cp);
      if (o != NULL) memcpy(o + n, tmp, k); /* fits: 6 or 12 source bytes became at most 4 */
      n += k;
      continue;
    }
    uint32_t k = forge__utf8_len(p, (uint32_t)(e - p));
    if (k == 0) { free(o); r->p = p; return forge__jr_fail(r, "a string is not valid UTF-8"); }
    if (o != NULL) memcpy(o + n, p, k);
    n += k;
    p += k;
  }
  r->p = p + 1;
  if (out != NULL) { out->ptr = o; out->len = n; }
  return true;
}

/* The separator before an item of the container at the current depth: ',' after the first. */
static inline bool forge__jr_next(forge_json_reader *r, uint8_t close) {
  if (r->error != NULL) return false;
  forge__jr_ws(r);
  if (r->p >= r->end) return forge__jr_fail(r, "a container is not closed");
  uint32_t bit = 1u << (r->depth - 1);
  if (*r->p == close) { r->p++; r->depth--; return false; }
  if (r->has_items & bit) {
    if (*r->p != ',') return forge__jr_fail(r, "a comma was expected");
    r->p++;
    forge__jr_ws(r);
    if (r->p < r->end && *r->p == close) return forge__jr_fail(r, "a trailing comma");
  }
  r->has_items |= bit;
  return true;
}

static inline bool forge__jr_open(forge_json_reader *r, forge_json_type type, uint8_t bracket) {
  if (forge_json_peek(r) != type) return forge__jr_fail(r, type == FORGE_JSON_OBJECT ? "an object was expected" : "an array was expected");
  if (r->depth >= FORGE_JSON_MAX_DEPTH) return forge__jr_fail(r, "nesting is deeper than FORGE_JSON_MAX_DEPTH");
  (void)bracket;
  r->p++;
  r->depth++;
  r->has_items &= ~(1u << (r->depth - 1));
  return true;
}

/** Enters an array; then call forge_json_array_next before each item. */
static inline bool forge_json_array_begin_read(forge_json_reader *r) { return forge__jr_open(r, FORGE_JSON_ARRAY, '['); }
/** True when another item follows (read it next); false at the end of the array (consumed) or on error. */
static inline bool forge_json_array_next(forge_json_reader *r) { return forge__jr_next(r, ']'); }

/** Enters an object; then call forge_json_object_next for each member. */
static inline bool forge_json_object_begin_read(forge_json_reader *r) { return forge__jr_open(r, FORGE_JSON_OBJECT, '{'); }

/**
 * True when another member follows: its key, unescaped, is in *key (yours to free; pass
 * NULL to skip it) and its value is read next. False at the end of the object or on error.
 */
static inline bool forge_json_object_next(forge_json_reader *r, forge_buf *key) {
  if (!forge__jr_next(r, '}')) return false;
  if (!forge_json_read_string(r, key)) return false;
  forge__jr_ws(r);
  if (r->p >= r->end || *r->p != ':') {
    if (key != NULL) forge_buf_free(key);
    return forge__jr_fail(r, "a colon was expected");
  }
  r->p++;
  return true;
}

/** True when a key read by forge_json_object_next is `name`. */
static inline bool forge_json_key_is(forge_buf key, const char *name) {
  size_t n = strlen(name);
  return key.len == n && (n == 0 || memcmp(key.ptr, name, n) == 0);
}

/** Reads and discards the next value, whatever it is (checked all the same). */
static inline bool forge_json_skip(forge_json_reader *r) {
  forge_slice number;
  bool b;
  switch (forge_json_peek(r)) {
    case FORGE_JSON_NULL: return forge_json_read_null(r);
    case FORGE_JSON_BOOL: return forge_json_read_bool(r, &b);
    case FORGE_JSON_NUMBER: return forge_json_read_number_text(r, &number);
    case FORGE_JSON_STRING: return forge_json_read_string(r, NULL);
    case FORGE_JSON_ARRAY:
      if (!forge_json_array_begin_read(r)) return false;
      while (forge_json_array_next(r)) if (!forge_json_skip(r)) return false;
      return r->error == NULL;
    case FORGE_JSON_OBJECT:
      if (!forge_json_object_begin_read(r)) return false;
      while (forge_json_object_next(r, NULL)) if (!forge_json_skip(r)) return false;
      return r->error == NULL;
    default: return false;
  }
}

/** True when the document ended cleanly: every container closed, only whitespace left. */
static inline bool forge_json_read_end(forge_json_reader *r) {
  if (r->error != NULL) return false;
  if (r->depth != 0) return forge__jr_fail(r, "a container is not closed");
  forge__jr_ws(r);
  return r->p == r->end || forge__jr_fail(r, "text follows the value");
}

#endif /* FORGE_JSON_STRING_H */
