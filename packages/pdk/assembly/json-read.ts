// A JSON reader (RFC 8259) good for what plugins take in: objects, arrays, strings,
// numbers (as f64), true, false and null, nested at most `maxDepth` deep (default
// JSON_MAX_DEPTH). Invalid text, ill-formed UTF-8 in a string, a lone surrogate escape,
// nesting too deep, or anything after the value is PDK_BAD_JSON with the byte offset.
import { decodeUtf8, utf8Length } from './bytes';
import { JSON_MAX_DEPTH } from './json';
import { Status, failInto, failure } from './status';

export enum JsonKind {
  Null = 0,
  Bool = 1,
  Number = 2,
  String = 3,
  Array = 4,
  Object = 5,
}

/** A parsed value; read it by its kind. */
export class JsonValue {
  bool: bool = false;
  number: f64 = 0;
  string: string = '';
  /** The items of an array, or the values of an object (in the order of `keys`). */
  items: JsonValue[] = [];
  /** The keys of an object, in document order (a repeated key keeps its first value for get). */
  keys: string[] = [];

  constructor(readonly kind: JsonKind) {}

  /** The value of `key` in an object, or null (also when this is not an object). */
  get(key: string): JsonValue | null {
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] == key) return this.items[i];
    return null;
  }

  /** The string under `key`, or `fallback` when absent or not a string. */
  getString(key: string, fallback: string = ''): string {
    const v = this.get(key);
    return v !== null && v.kind == JsonKind.String ? v.string : fallback;
  }

  /** The number under `key`, or `fallback` when absent or not a number. */
  getNumber(key: string, fallback: f64 = 0): f64 {
    const v = this.get(key);
    return v !== null && v.kind == JsonKind.Number ? v.number : fallback;
  }
}

/** parseJson's answer. */
export class JsonResult extends Status {
  value: JsonValue = new JsonValue(JsonKind.Null);
}

class Parser {
  pos: i32 = 0;
  error: string = '';
  constructor(
    readonly b: Uint8Array,
    readonly maxDepth: i32,
  ) {}

  fail(what: string): JsonValue | null {
    if (this.error == '') this.error = what + ' at byte ' + this.pos.toString();
    return null;
  }

  failText(what: string): string | null {
    this.fail(what);
    return null;
  }

  ws(): void {
    while (this.pos < this.b.length) {
      const c = this.b[this.pos];
      if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) return;
      this.pos++;
    }
  }

  literal(word: string, v: JsonValue): JsonValue | null {
    for (let i = 0; i < word.length; i++) {
      if (this.pos >= this.b.length || <i32>this.b[this.pos] != word.charCodeAt(i)) return this.fail('expected ' + word);
      this.pos++;
    }
    return v;
  }

  value(depth: i32): JsonValue | null {
    this.ws();
    if (this.pos >= this.b.length) return this.fail('unexpected end');
    const c = this.b[this.pos];
    if (c == 0x7b || c == 0x5b) {
      if (depth >= this.maxDepth) return this.fail('nesting deeper than ' + this.maxDepth.toString());
      return c == 0x7b ? this.object(depth + 1) : this.array(depth + 1);
    }
    if (c == 0x22) {
      const s = this.str();
      if (s === null) return null;
      const v = new JsonValue(JsonKind.String);
      v.string = s;
      return v;
    }
    if (c == 0x74) {
      const t = new JsonValue(JsonKind.Bool);
      t.bool = true;
      return this.literal('true', t);
    }
    if (c == 0x66) return this.literal('false', new JsonValue(JsonKind.Bool));
    if (c == 0x6e) return this.literal('null', new JsonValue(JsonKind.Null));
    return this.num();
  }

  digits(): i32 {
    const start = this.pos;
    while (this.pos < this.b.length && this.b[this.pos] >= 0x30 && this.b[this.pos] <= 0x39) this.pos++;
    return this.pos - start;
  }

  num(): JsonValue | null {
    const start = this.pos;
    if (this.b[this.pos] == 0x2d) this.pos++;
    const first = this.pos < this.b.length ? this.b[this.pos] : 0;
    const n = this.digits();
    if (n == 0 || (first == 0x30 && n > 1)) return this.fail('invalid number');
    if (this.pos < this.b.length && this.b[this.pos] == 0x2e) {
      this.pos++;
      if (this.digits() == 0) return this.fail('invalid number');
    }
    if (this.pos < this.b.length && (this.b[this.pos] | 0x20) == 0x65) {
      this.pos++;
      if (this.pos < this.b.length && (this.b[this.pos] == 0x2b || this.b[this.pos] == 0x2d)) this.pos++;
      if (this.digits() == 0) return this.fail('invalid number');
    }
    const v = new JsonValue(JsonKind.Number);
    // An integer of at most 15 digits is exact in an f64: summed directly, it skips the
    // string and parseFloat, which cost most of a number-heavy document's parse.
    const negative = this.b[start] == 0x2d;
    const digits = this.pos - start - (negative ? 1 : 0);
    if (digits == n && n <= 15) {
      let x: f64 = 0;
      for (let i = this.pos - n; i < this.pos; i++) x = x * 10 + <f64>(this.b[i] - 0x30);
      v.number = negative ? -x : x;
      return v;
    }
    v.number = parseFloat(String.UTF8.decodeUnsafe(this.b.dataStart + <usize>start, <usize>(this.pos - start)));
    return v;
  }

  hex4(): i32 {
    if (this.b.length - this.pos < 4) return -1;
    let v = 0;
    for (let i = 0; i < 4; i++) {
      const c = <i32>this.b[this.pos++];
      const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : (c | 0x20) >= 0x61 && (c | 0x20) <= 0x66 ? (c | 0x20) - 0x57 : -1;
      if (d < 0) return -1;
      v = (v << 4) | d;
    }
    return v;
  }

  // A string at pos (on its opening quote); null on an error.
  str(): string | null {
    this.pos++;
    let out = '';
    let run = this.pos;
    while (true) {
      if (this.pos >= this.b.length) return this.failText('unterminated string');
      const c = this.b[this.pos];
      if (c == 0x22 || c == 0x5c) {
        const chunk = this.chunk(run, this.pos);
        if (chunk === null) return null;
        out += chunk;
        this.pos++;
        if (c == 0x22) return out;
        if (this.pos >= this.b.length) return this.failText('unterminated string');
        const e = this.b[this.pos++];
        if (e == 0x75) {
          let cp = this.hex4();
          if (cp < 0) return this.failText('invalid \\u escape');
          if (cp >= 0xd800 && cp <= 0xdbff) {
            if (this.b.length - this.pos < 2 || this.b[this.pos] != 0x5c || this.b[this.pos + 1] != 0x75) return this.failText('lone surrogate');
            this.pos += 2;
            const low = this.hex4();
            if (low < 0xdc00 || low > 0xdfff) return this.failText('lone surrogate');
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          } else if (cp >= 0xdc00 && cp <= 0xdfff) return this.failText('lone surrogate');
          out += String.fromCodePoint(cp);
        } else {
          const i = '"\\/bfnrt'.indexOf(String.fromCharCode(e));
          if (i < 0) return this.failText('invalid escape');
          out += '"\\/\b\f\n\r\t'.charAt(i);
        }
        run = this.pos;
      } else if (c < 0x20) return this.failText('control character in string');
      else this.pos++;
    }
  }

  // Raw bytes [from, to) of a string, checked as well-formed UTF-8.
  chunk(from: i32, to: i32): string | null {
    const base = this.b.dataStart;
    for (let i = from; i < to; ) {
      const k = utf8Length(base + <usize>i, <usize>(to - i));
      if (k == 0) {
        this.pos = i;
        return this.failText('ill-formed UTF-8 in string');
      }
      i += <i32>k;
    }
    return decodeUtf8(base + <usize>from, <usize>(to - from));
  }

  array(depth: i32): JsonValue | null {
    this.pos++;
    const v = new JsonValue(JsonKind.Array);
    this.ws();
    if (this.pos < this.b.length && this.b[this.pos] == 0x5d) {
      this.pos++;
      return v;
    }
    while (true) {
      const item = this.value(depth);
      if (item === null) return null;
      v.items.push(item);
      this.ws();
      if (this.pos >= this.b.length) return this.fail('unterminated array');
      const c = this.b[this.pos++];
      if (c == 0x5d) return v;
      if (c != 0x2c) return this.fail('expected , or ]');
    }
  }

  object(depth: i32): JsonValue | null {
    this.pos++;
    const v = new JsonValue(JsonKind.Object);
    this.ws();
    if (this.pos < this.b.length && this.b[this.pos] == 0x7d) {
      this.pos++;
      return v;
    }
    while (true) {
      this.ws();
      if (this.pos >= this.b.length || this.b[this.pos] != 0x22) return this.fail('expected a key');
      const key = this.str();
      if (key === null) return null;
      this.ws();
      if (this.pos >= this.b.length || this.b[this.pos++] != 0x3a) return this.fail('expected :');
      const item = this.value(depth);
      if (item === null) return null;
      v.keys.push(key);
      v.items.push(item);
      this.ws();
      if (this.pos >= this.b.length) return this.fail('unterminated object');
      const c = this.b[this.pos++];
      if (c == 0x7d) return v;
      if (c != 0x2c) return this.fail('expected , or }');
    }
  }
}

/** Parses UTF-8 JSON text (PDK_BAD_JSON with the offset when it is not valid JSON). */
export function parseJson(bytes: Uint8Array, maxDepth: i32 = JSON_MAX_DEPTH): JsonResult {
  const p = new Parser(bytes, maxDepth);
  const result = new JsonResult();
  const v = p.value(0);
  if (v !== null) {
    p.ws();
    if (p.pos == bytes.length) {
      result.value = v;
      return result;
    }
    p.fail('text after the value');
  }
  return failInto(result, failure('PDK_BAD_JSON', p.error));
}
