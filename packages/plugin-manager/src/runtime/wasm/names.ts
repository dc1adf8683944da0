import { ForgeError } from '@forgeone/common';
import { ByteReader } from './reader.js';

/** What the `name` custom section says: the module's name and its functions' names. */
export interface NameSection {
  readonly module?: string;
  /** Function index to name. */
  readonly functions: ReadonlyMap<number, string>;
}

/**
 * Decodes a `name` custom section's contents (after the section's own name): the
 * module name (subsection 0) and function names (subsection 1); other subsections are
 * skipped. The engine ignores a malformed name section, and so do we: it yields
 * undefined rather than an error.
 */
export function decodeNameSection(contents: Uint8Array): NameSection | undefined {
  const reader = new ByteReader(contents);
  let module: string | undefined;
  const functions = new Map<number, string>();
  try {
    while (!reader.done) {
      const id = reader.u8('a name subsection id');
      const size = reader.u32('a name subsection size');
      const end = reader.pos + size;
      if (end > contents.length) return undefined;
      if (id === 0) {
        module = reader.name('the module name');
      } else if (id === 1) {
        const count = reader.u32('the number of function names');
        for (let index = 0; index < count; index += 1) functions.set(reader.u32('a function index'), reader.name('a function name'));
      }
      reader.pos = end;
    }
  } catch (error) {
    if (ForgeError.is(error, 'FO_RUNTIME_MALFORMED_MODULE')) return undefined;
    throw error;
  }
  return module === undefined ? { functions } : { module, functions };
}
