import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasCode } from '@forgeone/common/testing';
import { MAX_HOST_ERROR_MESSAGE_BYTES, decodeErrorPayload, encodeErrorPayload } from './error-payload.js';
import { DEFAULT_ABI_LIMITS, resolveAbiLimits } from './limits.js';
import { ERROR_FLAG, KEEP_FLAG, MAX_REGION_BYTES, packResult, unpackResult } from './packed.js';
import { text, utf8 } from './test-support/harness.js';

describe('packed results', () => {
  it('puts the pointer in the high word and length and flags in the low word', () => {
    assert.equal(packResult(0x12345678, 16), (0x12345678n << 32n) | 16n);
    assert.equal(BigInt.asUintN(64, packResult(0xffffffff, MAX_REGION_BYTES, ERROR_FLAG | KEEP_FLAG)), 0xffff_ffff_ffff_ffffn);
    assert.equal(packResult(0, 0), 0n);
  });

  it('decodes what the guest hands over, a signed i64, into unsigned fields', () => {
    assert.deepEqual(unpackResult(-1n), { ptr: 0xffffffff, length: MAX_REGION_BYTES, error: true, keep: true });
    assert.deepEqual(unpackResult((0x80000000n << 32n) | 5n), { ptr: 0x80000000, length: 5, error: false, keep: false });
    assert.deepEqual(unpackResult(BigInt.asIntN(64, (7n << 32n) | 0x80000009n)), { ptr: 7, length: 9, error: true, keep: false });
    assert.deepEqual(unpackResult((7n << 32n) | 0x40000009n), { ptr: 7, length: 9, error: false, keep: true });
  });

  it('round-trips every flag combination', () => {
    for (const flags of [0, ERROR_FLAG, KEEP_FLAG, ERROR_FLAG | KEEP_FLAG]) {
      const decoded = unpackResult(packResult(0xdeadbeef, 12345, flags));
      assert.deepEqual(decoded, { ptr: 0xdeadbeef, length: 12345, error: (flags & ERROR_FLAG) !== 0, keep: (flags & KEEP_FLAG) !== 0 });
    }
  });
});

describe('error payloads', () => {
  it('decodes CODE, a line feed and a UTF-8 message that may hold more line feeds', () => {
    assert.deepEqual(decodeErrorPayload(utf8('E_X\nline one\nline two ✓'), 'test'), { code: 'E_X', message: 'line one\nline two ✓' });
  });

  it('accepts a payload that is only a code', () => {
    assert.deepEqual(decodeErrorPayload(utf8('not_found'), 'test'), { code: 'not_found', message: '' });
  });

  it('refuses an empty code, a 65-byte code and a code with a space as FO_ABI_BAD_ERROR_PAYLOAD', () => {
    assert.throws(() => decodeErrorPayload(utf8('\nmessage'), 'test'), hasCode('FO_ABI_BAD_ERROR_PAYLOAD', { problem: 'the code is empty' }));
    assert.throws(() => decodeErrorPayload(new Uint8Array(0), 'test'), hasCode('FO_ABI_BAD_ERROR_PAYLOAD', { problem: 'the code is empty' }));
    assert.throws(() => decodeErrorPayload(utf8(`${'A'.repeat(65)}\nm`), 'test'), hasCode('FO_ABI_BAD_ERROR_PAYLOAD'));
    assert.throws(() => decodeErrorPayload(utf8('two words\nm'), 'test'), hasCode('FO_ABI_BAD_ERROR_PAYLOAD'));
    assert.throws(() => decodeErrorPayload(new Uint8Array([0x45, 0xc3, 0xa9, 0x0a]), 'test'), hasCode('FO_ABI_BAD_ERROR_PAYLOAD'));
  });

  it('encodes what it decodes', () => {
    assert.deepEqual(decodeErrorPayload(encodeErrorPayload('FO_ABI_HOST_DENIED', 'host policy denied forge.log'), 'test'), {
      code: 'FO_ABI_HOST_DENIED',
      message: 'host policy denied forge.log',
    });
  });

  it(`cuts a host message at ${MAX_HOST_ERROR_MESSAGE_BYTES} bytes without splitting a character`, () => {
    const payload = encodeErrorPayload('E', '€'.repeat(2000));
    const message = text(payload.subarray(2));
    assert.ok(payload.length - 2 <= MAX_HOST_ERROR_MESSAGE_BYTES);
    assert.equal(message, '€'.repeat(Math.floor(MAX_HOST_ERROR_MESSAGE_BYTES / 3)));
  });

  it('refuses to encode a malformed code as FO_INTERNAL_UNEXPECTED', () => {
    assert.throws(() => encodeErrorPayload('bad code', 'm'), hasCode('FO_INTERNAL_UNEXPECTED'));
  });
});

describe('ABI limits', () => {
  it('fills unnamed limits from the defaults', () => {
    assert.deepEqual(resolveAbiLimits({ maxErrorBytes: 10 }), { ...DEFAULT_ABI_LIMITS, maxErrorBytes: 10 });
  });

  it('refuses a limit the packed result cannot carry', () => {
    assert.throws(() => resolveAbiLimits({ maxOutputBytes: MAX_REGION_BYTES + 1 }), hasCode('FO_LIMIT_INVALID'));
    assert.throws(() => resolveAbiLimits({ maxInputBytes: 1.5 }), hasCode('FO_LIMIT_INVALID'));
    assert.throws(() => resolveAbiLimits({ maxErrorBytes: -1 }), hasCode('FO_LIMIT_INVALID'));
  });
});
