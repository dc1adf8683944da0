/**
 * Hand-assembles WebAssembly binaries for tests that need bytes no assembler writes
 * (hostile, malformed or unusual encodings). Every helper returns plain byte arrays.
 */

/** Unsigned LEB128 of a non-negative integer. */
export function uleb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

/** Signed LEB128 of a safe integer. */
export function sleb(value: number): number[] {
  const out: number[] = [];
  for (;;) {
    const low = ((value % 128) + 128) % 128;
    value = Math.floor(value / 128);
    const done = (value === 0 && (low & 0x40) === 0) || (value === -1 && (low & 0x40) !== 0);
    out.push(done ? low : low | 0x80);
    if (done) return out;
  }
}

/** A name: its UTF-8 length and bytes. */
export function name(text: string): number[] {
  const bytes = [...Buffer.from(text, 'utf8')];
  return [...uleb(bytes.length), ...bytes];
}

/** A vector: its length and its items' bytes. */
export function vec(items: readonly (readonly number[])[]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

/** A section: id, payload size, payload. */
export function section(id: number, payload: readonly number[]): number[] {
  return [id, ...uleb(payload.length), ...payload];
}

/** The 8-byte header of a version 1 module. */
export const HEADER: readonly number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

/** A module from sections (each already framed by {@link section}). */
export function moduleOf(...sections: readonly (readonly number[])[]): Uint8Array {
  return Uint8Array.from([...HEADER, ...sections.flat()]);
}

/** A function body: local groups as [count, type] and instruction bytes (ending in 0x0b). */
export function body(locals: readonly (readonly [number, number])[], code: readonly number[]): number[] {
  const content = [...uleb(locals.length), ...locals.flatMap(([count, type]) => [...uleb(count), type]), ...code];
  return [...uleb(content.length), ...content];
}

/**
 * A module with one type `() -> ()` (or the given type bytes), one function per body,
 * a one-page memory, and the bodies' code. The first function is exported as "run".
 */
export function moduleWithBodies(bodies: readonly (readonly number[])[], type: readonly number[] = [0x60, 0x00, 0x00]): Uint8Array {
  return moduleOf(
    section(1, vec([type])),
    section(3, vec(bodies.map(() => [0]))),
    section(5, vec([[0x00, 0x01]])),
    section(7, vec([[...name('run'), 0x00, 0x00]])),
    section(10, vec(bodies)),
  );
}
