/**
 * The C PDK's JSON reader (pdk/c/forge_json_read.h, forge_json_string.h), compiled with
 * clang into pdk/c/tests/json_read.c's module and called through forge/1: whatever it
 * accepts JSON.parse accepts and reads the same, and what it refuses (hostile inputs and
 * seeded mutations of valid documents) it refuses with PDK_JSON_INVALID and the byte
 * where it stopped. Two refusals are by design stricter than JSON.parse: a \u escape of
 * half a surrogate pair (the output could not be UTF-8) and nesting past 32.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ALLOW_ALL_GATE, type ForgeError } from '@forgeone/common';
import { forgeErrorOfSync, requireTool } from '@forgeone/common/testing';
import { HostFunctionRegistry, instantiateAbi } from '../abi/index.js';
import { wasm } from '../abi/wasm-api.js';
import { clangArgs, programDir, writeProbe } from '../runtime/wasm/test-support/c-programs.js';
import { Random } from '../runtime/wasm/test-support/random.js';

const PDK = fileURLToPath(new URL('../../../../pdk/c/', import.meta.url));
const dir = programDir();
after(() => rmSync(dir, { recursive: true, force: true }));

type Call = (input: Uint8Array) => Uint8Array;
let calls: { canon: Call; ints: Call } | undefined;

function guest(t: TestContext): { canon: Call; ints: Call } | undefined {
  if (!requireTool(t, 'clang', clangArgs(writeProbe(dir), join(dir, 'probe.wasm')))) return undefined;
  if (calls === undefined) {
    const output = join(dir, 'json_read.wasm');
    const flags = ['-mexec-model=reactor', '-O2', '-std=c99', '-Wall', '-Wextra', '-Werror', '-pedantic', `-I${PDK}`];
    const result = spawnSync('clang', clangArgs(join(PDK, 'tests/json_read.c'), output, flags), { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    const instance = instantiateAbi(new wasm.Module(readFileSync(output)), { gate: ALLOW_ALL_GATE, hostFunctions: new HostFunctionRegistry() });
    calls = { canon: instance.callable('canon'), ints: instance.callable('ints') };
  }
  return calls;
}

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const decode = (data: Uint8Array): string => new TextDecoder('utf-8', { fatal: true }).decode(data);

/** The guest's refusal: its code and message. */
function refusal(call: Call, input: string | Uint8Array): { code: string; message: string } {
  const error: ForgeError | undefined = forgeErrorOfSync(() => call(typeof input === 'string' ? bytes(input) : input));
  assert.ok(error !== undefined, `the guest accepted ${String(input)}`);
  assert.equal(error.code, 'FO_ABI_GUEST_ERROR', error.message);
  return { code: String(error.details['guestCode']), message: String(error.details['guestMessage']) };
}

/** A random JSON value: every type, escapes, non-ASCII, astral characters, numbers of every form. */
function value(random: Random, depth: number): unknown {
  switch (random.int(depth > 4 ? 4 : 7)) {
    case 0: return null;
    case 1: return random.chance(0.5);
    case 2: return [0, -1, 1e21, 1.5e-7, -0.25, 123456789, 2 ** 53, random.next() * 1e6][random.int(8)];
    case 3: return Array.from({ length: random.int(8) }, () => ['a', '"', '\\', '\n', '\u0001', '/', 'é', '€', '😀', '\u2028', ' '][random.int(11)]).join('');
    case 4: return random.int(1000) - 500;
    case 5: return Array.from({ length: random.int(5) }, () => value(random, depth + 1));
    default: return Object.fromEntries(Array.from({ length: random.int(5) }, (_, i) => [`k${i}${random.chance(0.3) ? '"é' : ''}`, value(random, depth + 1)]));
  }
}

describe('the C PDK JSON reader', () => {
  it('reads back 400 generated documents exactly as JSON.parse does', (t) => {
    const call = guest(t);
    if (call === undefined) return;
    const random = new Random(0x1505);
    for (let i = 0; i < 400; i++) {
      const doc = value(random, 0);
      const text = random.chance(0.5) ? JSON.stringify(doc) : JSON.stringify(doc, null, random.int(3) + 1);
      assert.deepEqual(JSON.parse(decode(call.canon(bytes(text)))), doc, `seed 0x1505, document ${i}: ${text}`);
    }
  });

  it('unescapes every escape, including surrogate pairs, into UTF-8', (t) => {
    const call = guest(t);
    if (call === undefined) return;
    const text = String.raw`["\"\\\/\b\f\n\r\t", "\u00e9\u20AC\ud83d\ude00", "\u0000"]`;
    assert.deepEqual(JSON.parse(decode(call.canon(bytes(text)))), JSON.parse(text));
  });

  it('refuses malformed documents with PDK_JSON_INVALID and the byte where it stopped', (t) => {
    const call = guest(t);
    if (call === undefined) return;
    const cases: [string | Uint8Array, string, number][] = [
      ['', 'a value was expected, found the end', 0],
      ['{"a":1,}', 'a trailing comma', 7],
      ['[1 2]', 'a comma was expected', 3],
      ['{"a" 1}', 'a colon was expected', 5],
      ['01', 'text follows the value', 1],
      ['1.', 'a digit was expected after the point', 2],
      ['1e+', 'a digit was expected in the exponent', 3],
      ['-', 'a digit was expected', 1],
      ['NaN', 'a value was expected', 0],
      ['tru', 'a literal is misspelt', 0],
      ['"a\u0001"', 'a control character is in a string', 2],
      ['"\\x"', 'an escape is invalid', 1],
      ['"\\ud800"', 'a \\u escape is invalid or half a surrogate pair', 1],
      ['"\\udc00\\ud800"', 'a \\u escape is invalid or half a surrogate pair', 1],
      ['"\\u12G4"', 'a \\u escape is invalid or half a surrogate pair', 1],
      [new Uint8Array([0x22, 0xc0, 0xaf, 0x22]), 'a string is not valid UTF-8', 1],
      [new Uint8Array([0x22, 0xed, 0xa0, 0x80, 0x22]), 'a string is not valid UTF-8', 1],
      ['"open', 'a string is not closed', 5],
      ['[1, [2', 'a container is not closed', 6],
      ['{"a":1} x', 'text follows the value', 8],
      ['['.repeat(33) + ']'.repeat(33), 'nesting is deeper than FORGE_JSON_MAX_DEPTH', 32],
    ];
    for (const [input, reason, at] of cases) {
      const { code, message } = refusal(call.canon, input);
      assert.equal(code, 'PDK_JSON_INVALID', String(input));
      assert.equal(message, `input is not valid JSON: ${reason} at byte ${at}`, String(input));
    }
  });

  it('accepts exactly what JSON.parse accepts among 2000 seeded mutations of valid documents', (t) => {
    const call = guest(t);
    if (call === undefined) return;
    const random = new Random(0xbad5eed);
    const noise = ['{', '}', '[', ']', ',', ':', '"', '\\', 'e', '-', '.', '0', ' ', 'u', 'n', 't'];
    let refused = 0;
    for (let i = 0; i < 2000; i++) {
      let text = JSON.stringify(value(random, 0));
      const at = random.int(text.length + 1);
      text = random.chance(0.5) ? text.slice(0, at) + noise[random.int(noise.length)] + text.slice(at) : text.slice(0, at) + text.slice(at + 1);
      let parsed: unknown;
      let valid = true;
      try {
        parsed = JSON.parse(text);
      } catch {
        valid = false;
      }
      if (valid && /\\u[dD][89a-fA-F]/.test(text)) continue; // lone surrogates: refused by design
      if (decode(bytes(text)) !== text) continue; // the cut split a UTF-16 pair: no UTF-8 says that
      if (valid) assert.deepEqual(JSON.parse(decode(call.canon(bytes(text)))), parsed, `seed 0xbad5eed, mutation ${i}: ${text}`);
      else {
        assert.equal(refusal(call.canon, text).code, 'PDK_JSON_INVALID', `seed 0xbad5eed, mutation ${i}: ${text}`);
        refused++;
      }
    }
    assert.ok(refused > 500, `mutations refused: ${refused}`);
  });

  it('reads int64 integers and refuses fractions and overflow', (t) => {
    const call = guest(t);
    if (call === undefined) return;
    assert.deepEqual(JSON.parse(decode(call.ints(bytes('[1, -2, 9223372036854775807, -9223372036854775807]')))), { sum: -1, count: 4 });
    assert.equal((JSON.parse(decode(call.ints(bytes('[-9223372036854775808]')))) as { count: number }).count, 1);
    assert.equal(refusal(call.ints, '[9223372036854775808]').message, 'input is not valid JSON: an integer is out of the int64 range at byte 20');
    assert.equal(refusal(call.ints, '[1.5]').message, 'input is not valid JSON: an integer was expected at byte 4');
    assert.equal(refusal(call.ints, '[9223372036854775807, 1]').code, 'E_OVERFLOW');
  });
});
