/**
 * Error payloads: the bytes behind a packed result whose error flag is set, in both
 * directions (a plugin export failing, a forge.* host call refused).
 *
 * The encoding is deliberately the simplest one every language can write and parse
 * without a library, WAT included: the code, a line feed, the message.
 *
 * ```
 * CODE "\n" MESSAGE
 * ```
 *
 * - CODE: 1 to {@link MAX_ERROR_CODE_BYTES} ASCII bytes from `A-Z a-z 0-9 _ . : -`.
 * - "\n": one byte 0x0A; may be left out when the message is empty.
 * - MESSAGE: UTF-8 text, possibly empty; ill-formed sequences are decoded as U+FFFD.
 *
 * JSON was considered and rejected: the guest must also *parse* the host's error
 * payloads, and a JSON parser is a large thing to demand of a C or WAT plugin.
 */
import { ForgeError } from '@forgeone/common';

/** Longest error code, in bytes. */
export const MAX_ERROR_CODE_BYTES = 64;

/** Longest message the host puts in an error payload for a guest, in bytes (longer ones are cut at a character boundary). */
export const MAX_HOST_ERROR_MESSAGE_BYTES = 4096;

/** The grammar of an error code. */
export const ERROR_CODE_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

/** A decoded error payload. */
export interface ErrorPayload {
  readonly code: string;
  readonly message: string;
}

const LINE_FEED = 0x0a;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

function isCodeByte(byte: number): boolean {
  return (
    (byte >= 0x30 && byte <= 0x39) || // 0-9
    (byte >= 0x41 && byte <= 0x5a) || // A-Z
    (byte >= 0x61 && byte <= 0x7a) || // a-z
    byte === 0x5f || // _
    byte === 0x2e || // .
    byte === 0x3a || // :
    byte === 0x2d // -
  );
}

/**
 * Decodes an error payload.
 *
 * @param bytes the payload (a copy; never a view into guest memory)
 * @param source who produced it, for the message (`plugin export "run"`)
 * @throws ForgeError FO_ABI_BAD_ERROR_PAYLOAD when the code is empty, too long or has a
 *   byte outside its alphabet
 */
export function decodeErrorPayload(bytes: Uint8Array, source: string): ErrorPayload {
  let end = bytes.indexOf(LINE_FEED);
  if (end === -1) end = bytes.length;
  const problem =
    end === 0
      ? 'the code is empty'
      : end > MAX_ERROR_CODE_BYTES
        ? `the code is ${end} bytes long (at most ${MAX_ERROR_CODE_BYTES})`
        : bytes.subarray(0, end).every(isCodeByte)
          ? undefined
          : 'the code has a byte outside A-Z a-z 0-9 _ . : -';
  if (problem !== undefined) {
    throw new ForgeError(
      'FO_ABI_BAD_ERROR_PAYLOAD',
      `${source} returned an error payload that is not "CODE\\nmessage": ${problem} (payload of ${bytes.length} bytes)`,
      { details: { source, length: bytes.length, problem } },
    );
  }
  // The code bytes are ASCII, so latin1 decoding is exact and cheaper than UTF-8.
  const code = String.fromCharCode(...bytes.subarray(0, end));
  const message = end < bytes.length ? decoder.decode(bytes.subarray(end + 1)) : '';
  return { code, message };
}

/**
 * Encodes an error payload for a guest. The message is cut to
 * {@link MAX_HOST_ERROR_MESSAGE_BYTES} bytes at a character boundary.
 *
 * @param code an error code matching {@link ERROR_CODE_PATTERN}
 * @throws ForgeError FO_INTERNAL_UNEXPECTED when `code` breaks the grammar (a host bug)
 */
export function encodeErrorPayload(code: string, message: string): Uint8Array {
  if (!ERROR_CODE_PATTERN.test(code)) {
    throw new ForgeError('FO_INTERNAL_UNEXPECTED', `error payload code: expected 1-64 of A-Z a-z 0-9 _ . : -, found ${JSON.stringify(code)}`);
  }
  const out = new Uint8Array(code.length + 1 + Math.min(MAX_HOST_ERROR_MESSAGE_BYTES, message.length * 3));
  for (let i = 0; i < code.length; i += 1) out[i] = code.charCodeAt(i);
  out[code.length] = LINE_FEED;
  // encodeInto writes whole characters only, so a cut never splits one.
  const { written } = encoder.encodeInto(message, out.subarray(code.length + 1, code.length + 1 + MAX_HOST_ERROR_MESSAGE_BYTES));
  return out.subarray(0, code.length + 1 + written);
}
