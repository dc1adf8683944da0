// Callable and lifecycle exports (ABI §3, §4, §7). A callable is written as
//
//   export function greet(ptr: u32, len: u32): u64 {
//     return call(ptr, len, (input: Input): Output => Output.text('Hello, ' + input.text() + '!'));
//   }
//
// `call` takes the input region the host wrote (copying it into a Uint8Array and freeing
// the region), runs the function, keeps the output alive in a global for the host to copy
// (keep flag: the host frees nothing) and collects garbage before returning, so a plugin
// that serves many short calls does not grow. `lifecycle` does the same for init, start...
import { ERROR_FLAG, KEEP_FLAG, MAX_REGION, pack, takeRegion } from './abi';
import { ByteWriter, text, utf8 } from './bytes';
import { Status, writerStatus } from './status';

/** Bytes of message an error payload carries (cut at a character boundary). */
export const ERROR_MESSAGE_MAX: i32 = 4096;

/** A callable's input. */
export class Input {
  constructor(
    /** The bytes the caller sent (empty for an empty input). */
    readonly bytes: Uint8Array,
  ) {}

  /** The input as UTF-8 text (ill-formed sequences become U+FFFD). */
  text(): string {
    return text(this.bytes);
  }

  /** The number of input bytes. */
  get length(): i32 {
    return this.bytes.length;
  }
}

/** What a callable answers: an output, or an error payload (ABI §5). */
export class Output {
  private constructor(
    readonly bytes: Uint8Array,
    readonly isError: bool,
  ) {}

  /** Success with these bytes. */
  static bytes(bytes: Uint8Array): Output {
    return new Output(bytes, false);
  }

  /** Success with this text as UTF-8. */
  static text(s: string): Output {
    return new Output(utf8(s), false);
  }

  /** Success without output. */
  static empty(): Output {
    return new Output(new Uint8Array(0), false);
  }

  /** The writer's bytes, or the PDK's error (PDK_TOO_LARGE, PDK_BAD_JSON) when it failed. */
  static writer(w: ByteWriter): Output {
    if (w.failed) return Output.status(writerStatus(w));
    return new Output(w.toBytes(), false);
  }

  /**
   * An error payload "CODE\nMESSAGE": the host raises FO_ABI_GUEST_ERROR with
   * details.guestCode = code. A code must be 1-64 of A-Z a-z 0-9 _ . : - (the host
   * answers FO_ABI_BAD_ERROR_PAYLOAD otherwise); the message is cut at
   * ERROR_MESSAGE_MAX bytes on a character boundary.
   */
  static error(code: string, message: string): Output {
    const c = utf8(code);
    const m = utf8(message);
    let n = m.length;
    if (n > ERROR_MESSAGE_MAX) {
      n = ERROR_MESSAGE_MAX;
      while (n > 0 && (m[n] & 0xc0) == 0x80) n--;
    }
    const payload = new Uint8Array(c.length + 1 + n);
    payload.set(c);
    payload[c.length] = 0x0a;
    memory.copy(payload.dataStart + <usize>c.length + 1, m.dataStart, <usize>n);
    return new Output(payload, true);
  }

  /** A failed host call's code and message relayed as this call's error. */
  static status(s: Status): Output {
    return Output.error(s.ok ? 'PDK_NOT_AN_ERROR' : s.code, s.message);
  }
}

/** A callable: takes the input, answers an output or an error. */
export type Callable = (input: Input) => Output;

// The last output, kept reachable until the next call: the host copies it after the
// export returned (keep flag), and a collection must not free it before.
let held: Uint8Array = new Uint8Array(0);

/**
 * Runs `fn` as the export the host called with `(ptr, len)` and packs its answer. Use it
 * as the whole body of an exported `(ptr: u32, len: u32): u64` function.
 */
export function call(ptr: u32, len: u32, fn: Callable): u64 {
  const input = new Input(takeRegion(<usize>ptr, len));
  const out = fn(input);
  let bytes = out.bytes;
  let flags = KEEP_FLAG | (out.isError ? ERROR_FLAG : 0);
  if (<u32>bytes.length > MAX_REGION) {
    bytes = Output.error('PDK_TOO_LARGE', 'the output exceeds 2^30 - 1 bytes').bytes;
    flags = KEEP_FLAG | ERROR_FLAG;
  }
  held = bytes;
  __collect();
  return bytes.length == 0 ? flags & ERROR_FLAG : pack(bytes.dataStart, <u32>bytes.length, flags);
}

/** A lifecycle step: answers 0 for success, anything else fails the step. */
export type Step = () => i32;

/**
 * Runs `fn` as a lifecycle export (`(): i32`, named in plugin.toml's [entry_points]); a
 * non-zero answer is FO_ABI_LIFECYCLE_FAILED with details.status.
 */
export function lifecycle(fn: Step): i32 {
  const status = fn();
  __collect();
  return status;
}
