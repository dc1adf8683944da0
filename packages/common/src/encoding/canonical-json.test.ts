import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalJson } from './canonical-json.js';

describe('canonicalJson', () => {
  it('sorts keys by UTF-16 code units and drops whitespace', () => {
    assert.equal(canonicalJson({ b: 1, a: [true, null, 'x'], A: { d: 2, c: 1 } }), '{"A":{"c":1,"d":2},"a":[true,null,"x"],"b":1}');
    assert.equal(canonicalJson({ '\u00e9': 1, z: 2, '\ud83d\ude00': 3 }), '{"z":2,"\u00e9":1,"\ud83d\ude00":3}');
  });

  it('matches RFC 8785 number and string serialisation', () => {
    assert.equal(canonicalJson([1e21, 0.1, -0, 1e-7, '\u2028']), '[1e+21,0.1,0,1e-7,"\u2028"]');
  });

  it('gives the same bytes for the same value built in any key order', () => {
    assert.equal(canonicalJson({ x: 1, y: { p: 1, q: 2 } }), canonicalJson({ y: { q: 2, p: 1 }, x: 1 }));
  });

  it('refuses values JSON cannot represent exactly', () => {
    for (const value of [Number.NaN, Infinity, 1n, () => 1, new Date(0), { a: Symbol('x') }]) assert.throws(() => canonicalJson(value), TypeError);
  });
});
