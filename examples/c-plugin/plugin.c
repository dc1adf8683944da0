/*
 * c-markdown: a ForgeOne plugin in C, built on pdk/c/forge.h.
 *
 *   render(markdown) -> HTML   Markdown subset: # headings, paragraphs, - lists, ``` code
 *                              fences, **strong**, *em*, `code`, [links](https://...).
 *                              Every text byte is HTML-escaped; a link whose target is not
 *                              http:, https:, mailto: or a relative path keeps its text and
 *                              loses the link (no javascript: URLs).
 *   stats() -> JSON            {"renders":N,"total":T,"largest":B}: renders by this instance,
 *                              the total across restarts (kept in the plugin's key-value
 *                              store under "total") and the largest input in bytes.
 *   lifecycle                  plugin_init logs that the plugin is ready; plugin_stop adds
 *                              the renders not yet counted to the stored total and logs
 *                              how many documents this instance rendered.
 *
 * Its own error codes: E_TOO_LARGE (input over 256 KiB), E_BAD_UTF8 (input not UTF-8);
 * host refusals from stats are relayed with the host's code (e.g. FO_ABI_HOST_DENIED).
 */
#include "forge.h"

#define MAX_INPUT (256u * 1024u)
#define MAX_OUTPUT (8u * MAX_INPUT) /* the worst case: every byte escaped as "&quot;" etc. */
#define MAX_INLINE_DEPTH 8

/* Renders by this instance, those not yet added to the stored total, the largest input. */
static uint64_t renders, unsaved, largest;

/* ---- inline spans ---- */

static void escape(forge_writer *w, const uint8_t *p, uint32_t n) {
  uint32_t start = 0;
  for (uint32_t i = 0; i < n; i++) {
    const char *entity = p[i] == '&' ? "&amp;" : p[i] == '<' ? "&lt;" : p[i] == '>' ? "&gt;" : p[i] == '"' ? "&quot;" : p[i] == '\'' ? "&#39;" : NULL;
    if (entity == NULL) continue;
    forge_write(w, p + start, i - start);
    forge_write_slice(w, forge_cstr(entity));
    start = i + 1;
  }
  forge_write(w, p + start, n - start);
}

/* The index of `marker` (mlen bytes) in p[from, n), or n when absent. */
static uint32_t find(const uint8_t *p, uint32_t n, uint32_t from, const char *marker, uint32_t mlen) {
  for (uint32_t i = from; i + mlen <= n; i++)
    if (memcmp(p + i, marker, mlen) == 0) return i;
  return n;
}

static bool safe_url(const uint8_t *p, uint32_t n) {
  static const char *const schemes[] = {"http://", "https://", "mailto:"};
  for (unsigned i = 0; i < 3; i++) {
    uint32_t k = (uint32_t)strlen(schemes[i]);
    if (n >= k && memcmp(p, schemes[i], k) == 0) return true;
  }
  /* A relative URL: no scheme before the first '/', '?' or '#'. */
  for (uint32_t i = 0; i < n && p[i] != '/' && p[i] != '?' && p[i] != '#'; i++)
    if (p[i] == ':') return false;
  return n > 0;
}

static void span(forge_writer *w, const uint8_t *p, uint32_t n, unsigned depth) {
  uint32_t i = 0, text = 0;
  while (i < n) {
    uint32_t close;
    uint32_t mlen = 0;
    if (p[i] == '`') {
      close = find(p, n, i + 1, "`", 1);
      if (close < n) {
        escape(w, p + text, i - text);
        forge_write_slice(w, FORGE_LIT("<code>"));
        escape(w, p + i + 1, close - i - 1);
        forge_write_slice(w, FORGE_LIT("</code>"));
        i = text = close + 1;
        continue;
      }
    } else if (p[i] == '*' && depth < MAX_INLINE_DEPTH) {
      bool strong = i + 1 < n && p[i + 1] == '*';
      mlen = strong ? 2 : 1;
      close = find(p, n, i + mlen + 1, strong ? "**" : "*", mlen);
      if (close < n) {
        escape(w, p + text, i - text);
        forge_write_slice(w, strong ? FORGE_LIT("<strong>") : FORGE_LIT("<em>"));
        span(w, p + i + mlen, close - i - mlen, depth + 1);
        forge_write_slice(w, strong ? FORGE_LIT("</strong>") : FORGE_LIT("</em>"));
        i = text = close + mlen;
        continue;
      }
    } else if (p[i] == '[' && depth < MAX_INLINE_DEPTH) {
      uint32_t label_end = find(p, n, i + 1, "](", 2);
      uint32_t url_end = label_end < n ? find(p, n, label_end + 2, ")", 1) : n;
      if (url_end < n) {
        const uint8_t *url = p + label_end + 2;
        uint32_t url_len = url_end - label_end - 2;
        escape(w, p + text, i - text);
        bool linked = safe_url(url, url_len);
        if (linked) {
          forge_write_slice(w, FORGE_LIT("<a href=\""));
          escape(w, url, url_len);
          forge_write_slice(w, FORGE_LIT("\">"));
        }
        span(w, p + i + 1, label_end - i - 1, depth + 1);
        if (linked) forge_write_slice(w, FORGE_LIT("</a>"));
        i = text = url_end + 1;
        continue;
      }
    }
    i++;
  }
  escape(w, p + text, n - text);
}

/* ---- blocks ---- */

enum block { NONE, PARAGRAPH, LIST, CODE };

static void close_block(forge_writer *w, enum block *open) {
  if (*open == PARAGRAPH) forge_write_slice(w, FORGE_LIT("</p>\n"));
  if (*open == LIST) forge_write_slice(w, FORGE_LIT("</ul>\n"));
  if (*open == CODE) forge_write_slice(w, FORGE_LIT("</code></pre>\n"));
  *open = NONE;
}

static void render_line(forge_writer *w, const uint8_t *p, uint32_t n, enum block *open) {
  if (n >= 3 && memcmp(p, "```", 3) == 0) {
    bool was_code = *open == CODE;
    close_block(w, open);
    if (!was_code) {
      forge_write_slice(w, FORGE_LIT("<pre><code>"));
      *open = CODE;
    }
    return;
  }
  if (*open == CODE) {
    escape(w, p, n);
    forge_write_slice(w, FORGE_LIT("\n"));
    return;
  }
  uint32_t level = 0;
  while (level < n && level < 7 && p[level] == '#') level++;
  if (n == 0) {
    close_block(w, open);
  } else if (level >= 1 && level <= 6 && level < n && p[level] == ' ') {
    close_block(w, open);
    char tag[4] = {'h', (char)('0' + level), '>', 0};
    forge_write_slice(w, FORGE_LIT("<"));
    forge_write(w, tag, 3);
    span(w, p + level + 1, n - level - 1, 0);
    forge_write_slice(w, FORGE_LIT("</"));
    forge_write(w, tag, 3);
    forge_write_slice(w, FORGE_LIT("\n"));
  } else if (n >= 2 && (p[0] == '-' || p[0] == '*') && p[1] == ' ') {
    if (*open != LIST) {
      close_block(w, open);
      forge_write_slice(w, FORGE_LIT("<ul>\n"));
      *open = LIST;
    }
    forge_write_slice(w, FORGE_LIT("<li>"));
    span(w, p + 2, n - 2, 0);
    forge_write_slice(w, FORGE_LIT("</li>\n"));
  } else {
    if (*open == PARAGRAPH) forge_write_slice(w, FORGE_LIT("\n"));
    else {
      close_block(w, open);
      forge_write_slice(w, FORGE_LIT("<p>"));
      *open = PARAGRAPH;
    }
    span(w, p, n, 0);
  }
}

static forge_result render(forge_input in) {
  if (in.len > MAX_INPUT) return forge_error("E_TOO_LARGE", "render takes at most 262144 bytes of Markdown");
  if (!forge_utf8_valid(forge_slice_of(in.ptr, in.len))) return forge_error("E_BAD_UTF8", "the input is not well-formed UTF-8");
  forge_writer w;
  forge_writer_init(&w, MAX_OUTPUT);
  enum block open = NONE;
  for (uint32_t start = 0; start < in.len;) {
    uint32_t end = start;
    while (end < in.len && in.ptr[end] != '\n') end++;
    uint32_t n = end - start;
    if (n > 0 && in.ptr[end - 1] == '\r') n--;
    render_line(&w, in.ptr + start, n, &open);
    start = end + 1;
  }
  close_block(&w, &open);
  renders++;
  unsaved++;
  if (in.len > largest) largest = in.len;
  return forge_ok_writer(&w);
}
FORGE_EXPORT(render, render)

/* ---- stats: the key-value store and the JSON writer ---- */

/* Adds the renders not yet counted to the stored total, once; `*total` is the new total. */
static forge_status save_total(uint64_t *total) {
  *total = 0;
  forge_buf stored;
  forge_status s = forge_kv_get(FORGE_LIT("total"), &stored);
  if (s.ok && stored.len == 8) memcpy(total, stored.ptr, 8);
  forge_buf_free(&stored);
  if (!s.ok && !forge_is(&s, "FO_SYSCALL_KV_NOT_FOUND")) return s;
  if (unsaved == 0) return forge_status_success();
  *total += unsaved;
  s = forge_kv_set(FORGE_LIT("total"), forge_slice_of(total, 8));
  if (s.ok) unsaved = 0;
  return s;
}

static forge_result stats(forge_input in) {
  (void)in;
  uint64_t total;
  forge_status s = save_total(&total);
  if (!s.ok) return forge_error_status(&s);

  forge_writer w;
  forge_json j;
  forge_writer_init(&w, 256);
  forge_json_init(&j, &w);
  forge_json_object_begin(&j);
  forge_json_key(&j, FORGE_LIT("renders"));
  forge_json_uint(&j, renders);
  forge_json_key(&j, FORGE_LIT("total"));
  forge_json_uint(&j, total);
  forge_json_key(&j, FORGE_LIT("largest"));
  forge_json_uint(&j, largest);
  forge_json_object_end(&j);
  return forge_ok_writer(&w);
}
FORGE_EXPORT(stats, stats)

/* ---- lifecycle ---- */

static int plugin_init(void) {
  forge_status s = forge_log(FORGE_INFO, FORGE_LIT("c-markdown ready"));
  /* A log refused by policy or the rate limit is no reason to fail the start. */
  (void)s;
  return 0;
}
FORGE_LIFECYCLE(plugin_init, plugin_init)

static int plugin_stop(void) {
  /* Keep the count of this instance. A refusal is logged, not fatal: stopping goes on. */
  uint64_t total;
  forge_status s = save_total(&total);
  forge_writer w;
  forge_json j;
  forge_writer_init(&w, 256);
  forge_json_init(&j, &w);
  forge_write_slice(&w, FORGE_LIT("c-markdown stopping; documents rendered: "));
  forge_json_uint(&j, renders);
  if (!s.ok) {
    forge_write_slice(&w, FORGE_LIT("; could not save the total: "));
    forge_write_slice(&w, forge_cstr(s.code));
  }
  if (!w.failed) (void)forge_log(s.ok ? FORGE_INFO : FORGE_WARN, forge_slice_of(w.data, w.len));
  forge_writer_free(&w);
  return 0;
}
FORGE_LIFECYCLE(plugin_stop, plugin_stop)
