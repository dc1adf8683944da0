/**
 * Canonical JSON (RFC 8785, JSON Canonicalization Scheme) for values made of
 * null, booleans, finite numbers, strings, arrays and plain objects: object keys
 * sorted by UTF-16 code units, no insignificant whitespace, ECMAScript number and
 * string serialisation. The same value always gives the same bytes, which is what
 * makes manifest digests and signed statements reproducible.
 *
 * @throws TypeError for values JSON cannot represent exactly (undefined, functions,
 *   NaN, Infinity, bigint, class instances).
 */
export function canonicalJson(value: unknown): string {
  return serialise(value, '$');
}

function serialise(value: unknown, path: string): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`canonical JSON cannot hold ${value} at ${path}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${value.map((item: unknown, index) => serialise(item, `${path}[${index}]`)).join(',')}]`;
  }
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) throw new TypeError(`canonical JSON cannot hold a class instance at ${path}`);
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record)
      .filter((key) => record[key] !== undefined)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${keys.map((key) => `${JSON.stringify(key)}:${serialise(record[key], `${path}.${key}`)}`).join(',')}}`;
  }
  throw new TypeError(`canonical JSON cannot hold a ${typeof value} at ${path}`);
}
