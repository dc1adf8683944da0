/**
 * Text and errors as bytes, for payloads crossing a pool slot (pool-protocol.ts): UTF-8
 * both ways, and a ForgeError as UTF-8 JSON.
 */
import { ForgeError } from '@forgeone/common';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** UTF-8 bytes of `text`. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Text from UTF-8 bytes (copied first: a decoder may refuse shared memory). */
export function text(bytes: Uint8Array): string {
  return decoder.decode(bytes.buffer instanceof SharedArrayBuffer ? bytes.slice() : bytes);
}

/** A ForgeError as UTF-8 JSON (its details dropped if they cannot be written as JSON). */
export function errorBytes(error: ForgeError): Uint8Array {
  try {
    return utf8(JSON.stringify(error.toJSON()));
  } catch {
    return utf8(JSON.stringify({ code: error.code, kind: error.kind, message: error.message }));
  }
}

/** The ForgeError {@link errorBytes} wrote. */
export function errorFrom(bytes: Uint8Array): ForgeError {
  let json: unknown;
  try {
    json = JSON.parse(text(bytes));
  } catch {
    json = { code: 'FO_INTERNAL_UNEXPECTED', message: 'a pool worker sent an unreadable error' };
  }
  return ForgeError.fromJSON(json);
}
