// What every host-call wrapper returns: a Status (ok, or the host's code and message),
// or a Status subclass carrying the answer. AssemblyScript has no exceptions a plugin can
// catch, so failures are values the caller checks, as in the C PDK.
//
// Codes are the host's (FO_SYSCALL_KV_NOT_FOUND, FO_ABI_HOST_DENIED: docs/reference/
// errors.md) or the PDK's own, which never start with FO_:
//   PDK_OUT_OF_MEMORY  the host could not allocate its answer in this module's memory
//   PDK_TOO_LARGE      a request would exceed a region's cap or the writer's limit
//   PDK_BAD_JSON       the JSON writer was misused, or the JSON reader met invalid text
//   PDK_BAD_RESPONSE   the host's answer does not have the documented layout
import { ERROR_FLAG, packedLen, packedPtr, takeRegion } from './abi';
import { ByteWriter, WriterFailure, decodeUtf8, text } from './bytes';

/** Bytes of a host error message a Status keeps (the host sends at most 4096). */
export const STATUS_MESSAGE_MAX: i32 = 4096;

/** The outcome of a host call: `ok`, or `code` and `message`. */
export class Status {
  constructor(
    /** True on success. */
    public ok: bool = true,
    /** The failure's code; "" when ok. */
    public code: string = '',
    /** The failure's message (may be empty). */
    public message: string = '',
  ) {}

  /** True when this failed with `code`. */
  is(code: string): bool {
    return !this.ok && this.code == code;
  }

}

/** Makes `into` a failure with `from`'s code and message (its `ok` too); returns `into`. */
export function failInto<T extends Status>(into: T, from: Status): T {
  into.ok = from.ok;
  into.code = from.code;
  into.message = from.message;
  return into;
}

/** A failed status with `code`. */
export function failure(code: string, message: string): Status {
  return new Status(false, code, message);
}

/** A host call's answer as bytes. */
export class BytesResult extends Status {
  /** The answer; empty when the call failed. */
  value: Uint8Array = new Uint8Array(0);

  /** The answer as UTF-8 text. */
  text(): string {
    return text(this.value);
  }
}

/** The status a failed writer stands for (ok when it did not fail). */
export function writerStatus(w: ByteWriter): Status {
  if (w.failure == WriterFailure.BadJson) return failure('PDK_BAD_JSON', 'the JSON writer was misused: too deep, unbalanced, or a key outside an object');
  if (w.failure == WriterFailure.Limit) return failure('PDK_TOO_LARGE', 'the bytes written exceed the writer\'s limit (' + w.limit.toString() + ' bytes)');
  return new Status();
}

/**
 * Parses an error payload "CODE\nMESSAGE" (ABI §5) into a failed status. The message is
 * cut at STATUS_MESSAGE_MAX bytes on a character boundary.
 */
export function statusOfPayload(payload: Uint8Array): Status {
  let c = 0;
  while (c < payload.length && payload[c] != 0x0a) c++;
  const code = decodeUtf8(payload.dataStart, <usize>min(c, 64));
  let start = c < payload.length ? c + 1 : payload.length;
  let end = payload.length;
  if (end - start > STATUS_MESSAGE_MAX) {
    end = start + STATUS_MESSAGE_MAX;
    while (end > start && (payload[end] & 0xc0) == 0x80) end--; // payload[end] is the first byte left out
  }
  return failure(code, decodeUtf8(payload.dataStart + <usize>start, <usize>(end - start)));
}

/**
 * Settles a host call's packed answer into `into`: a result region becomes `value` (when
 * `into` is a BytesResult), an error payload the failed status. The region is freed.
 */
export function settle<T extends Status>(answer: u64, into: T): T {
  const ptr = packedPtr(answer);
  const len = packedLen(answer);
  const region = takeRegion(ptr, len);
  if ((answer & ERROR_FLAG) != 0) {
    if (len == 0) failInto(into, failure('PDK_OUT_OF_MEMORY', 'the host could not allocate its error payload'));
    else failInto(into, statusOfPayload(region));
    return into;
  }
  if (into instanceof BytesResult) (<BytesResult>into).value = region;
  return into;
}
