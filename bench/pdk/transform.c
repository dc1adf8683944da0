/*
 * bench/pdk's transform, with the C PDK: {"items":[{"id","name","price","tags"}...]}
 * -> {"count":N,"total":SUM(price),"sale":[ids of items tagged "sale"]}. The same
 * function as transform.rs and the AssemblyScript ones (bench/pdk.mjs checks they agree).
 */
#include "forge.h"

#define MAX_SALE 4096

static forge_result transform(forge_input in) {
  forge_json_reader r = forge_json_reader_of(forge_slice_of(in.ptr, in.len));
  static int64_t sale[MAX_SALE];
  int64_t total = 0, count = 0, nsale = 0;
  forge_buf key;
  if (forge_json_object_begin_read(&r))
    while (forge_json_object_next(&r, &key)) {
      bool items = forge_json_key_is(key, "items");
      forge_buf_free(&key);
      if (!items) { forge_json_skip(&r); continue; }
      if (!forge_json_array_begin_read(&r)) break;
      while (forge_json_array_next(&r)) {
        int64_t id = 0, price = 0;
        bool tagged = false;
        count++;
        if (!forge_json_object_begin_read(&r)) break;
        while (forge_json_object_next(&r, &key)) {
          if (forge_json_key_is(key, "id")) forge_json_read_int(&r, &id);
          else if (forge_json_key_is(key, "price")) forge_json_read_int(&r, &price);
          else if (forge_json_key_is(key, "tags") && forge_json_array_begin_read(&r)) {
            forge_buf tag;
            while (forge_json_array_next(&r) && forge_json_read_string(&r, &tag)) {
              if (forge_json_key_is(tag, "sale")) tagged = true;
              forge_buf_free(&tag);
            }
          } else forge_json_skip(&r);
          forge_buf_free(&key);
        }
        total += price;
        if (tagged && nsale < MAX_SALE) sale[nsale++] = id;
      }
    }
  if (!forge_json_read_end(&r)) {
    forge_status s = forge_json_read_status(&r);
    return forge_error_status(&s);
  }
  forge_writer w;
  forge_json j;
  forge_writer_init(&w, 64 + 24 * (uint32_t)nsale);
  forge_json_init(&j, &w);
  forge_json_object_begin(&j);
  forge_json_key(&j, FORGE_LIT("count"));
  forge_json_int(&j, count);
  forge_json_key(&j, FORGE_LIT("total"));
  forge_json_int(&j, total);
  forge_json_key(&j, FORGE_LIT("sale"));
  forge_json_array_begin(&j);
  for (int64_t i = 0; i < nsale; i++) forge_json_int(&j, sale[i]);
  forge_json_array_end(&j);
  forge_json_object_end(&j);
  return forge_ok_writer(&w);
}
FORGE_EXPORT(transform, transform)
