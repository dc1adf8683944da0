// A JSON writer on ByteWriter. Commas and colons are placed for you; strings are escaped,
// and a lone surrogate becomes \ufffd, so the output is always valid JSON text. Misuse
// (nesting past JSON_MAX_DEPTH, an end without its begin, a value in an object without
// its key, a key in an array, a non-finite number) fails the writer with PDK_BAD_JSON,
// its limit with PDK_TOO_LARGE; Output.writer(w) then answers that error.
//
//   const w = new ByteWriter(4096);
//   const j = new JsonWriter(w);
//   j.beginObject(); j.key('renders'); j.uint(3); j.endObject();
//   return Output.writer(w);   // {"renders":3}
import { ByteWriter, WriterFailure } from './bytes';

/** Nesting depth the JSON writer and reader accept. */
export const JSON_MAX_DEPTH: i32 = 32;

const HEX = '0123456789abcdef';

export class JsonWriter {
  // Per open container: is it an object, does it hold an item yet.
  private objects: bool[] = [];
  private hasItems: bool[] = [];
  private afterKey: bool = false;

  constructor(readonly w: ByteWriter) {}

  private bad(): bool {
    return this.w.fail(WriterFailure.BadJson);
  }

  // The comma a new item needs, unless it is a key's value; checks keys go in objects only.
  private item(isKey: bool): bool {
    if (this.w.failed) return false;
    if (this.afterKey) {
      this.afterKey = false;
      return isKey ? this.bad() : true;
    }
    const depth = this.objects.length;
    if (depth == 0) return isKey ? this.bad() : true;
    if (this.objects[depth - 1] != isKey) return this.bad();
    const comma = this.hasItems[depth - 1];
    this.hasItems[depth - 1] = true;
    return comma ? this.w.byte(0x2c) : true;
  }

  private open(object: bool): bool {
    if (!this.item(false)) return false;
    if (this.objects.length >= JSON_MAX_DEPTH) return this.bad();
    this.objects.push(object);
    this.hasItems.push(false);
    return this.w.byte(object ? 0x7b : 0x5b);
  }

  private close(object: bool): bool {
    if (this.w.failed) return false;
    const depth = this.objects.length;
    if (depth == 0 || this.afterKey || this.objects[depth - 1] != object) return this.bad();
    this.objects.pop();
    this.hasItems.pop();
    return this.w.byte(object ? 0x7d : 0x5d);
  }

  beginObject(): bool {
    return this.open(true);
  }
  endObject(): bool {
    return this.close(true);
  }
  beginArray(): bool {
    return this.open(false);
  }
  endArray(): bool {
    return this.close(false);
  }

  /** An object key; the next write is its value. */
  key(k: string): bool {
    if (!this.item(true) || !this.quoted(k) || !this.w.byte(0x3a)) return false;
    this.afterKey = true;
    return true;
  }

  string(s: string): bool {
    return this.item(false) && this.quoted(s);
  }

  uint(v: u64): bool {
    return this.item(false) && this.w.string(v.toString());
  }

  int(v: i64): bool {
    return this.item(false) && this.w.string(v.toString());
  }

  /** A finite number (NaN and the infinities have no JSON form: PDK_BAD_JSON). */
  number(v: f64): bool {
    if (!isFinite(v)) return this.item(false) && this.bad();
    return this.item(false) && this.w.string(v == Math.floor(v) && Math.abs(v) < 1e15 ? (<i64>v).toString() : v.toString());
  }

  bool(v: bool): bool {
    return this.item(false) && this.w.string(v ? 'true' : 'false');
  }

  null(): bool {
    return this.item(false) && this.w.string('null');
  }

  /** A key and its string value. */
  field(k: string, v: string): bool {
    return this.key(k) && this.string(v);
  }

  private quoted(s: string): bool {
    const w = this.w;
    w.byte(0x22);
    const n = s.length;
    for (let i = 0; i < n; i++) {
      const c = <u32>s.charCodeAt(i);
      if (c == 0x22 || c == 0x5c) {
        w.byte(0x5c);
        w.byte(<u8>c);
      } else if (c == 0x0a) w.string('\\n');
      else if (c == 0x0d) w.string('\\r');
      else if (c == 0x09) w.string('\\t');
      else if (c < 0x20) {
        w.string('\\u00');
        w.byte(<u8>HEX.charCodeAt(c >> 4));
        w.byte(<u8>HEX.charCodeAt(c & 15));
      } else if (c < 0x80) w.byte(<u8>c);
      else if (c < 0x800) {
        w.byte(<u8>(0xc0 | (c >> 6)));
        w.byte(<u8>(0x80 | (c & 0x3f)));
      } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && <u32>s.charCodeAt(i + 1) >= 0xdc00 && <u32>s.charCodeAt(i + 1) <= 0xdfff) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (<u32>s.charCodeAt(++i) - 0xdc00);
        w.byte(<u8>(0xf0 | (cp >> 18)));
        w.byte(<u8>(0x80 | ((cp >> 12) & 0x3f)));
        w.byte(<u8>(0x80 | ((cp >> 6) & 0x3f)));
        w.byte(<u8>(0x80 | (cp & 0x3f)));
      } else if (c >= 0xd800 && c <= 0xdfff) w.string('\\ufffd');
      else {
        w.byte(<u8>(0xe0 | (c >> 12)));
        w.byte(<u8>(0x80 | ((c >> 6) & 0x3f)));
        w.byte(<u8>(0x80 | (c & 0x3f)));
      }
    }
    return w.byte(0x22);
  }
}
