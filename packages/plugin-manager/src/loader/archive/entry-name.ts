/**
 * The rules every entry name in a package obeys, shared by the reader (which refuses
 * a package that breaks them) and the writer (which refuses to produce one).
 *
 * A name is a relative POSIX path of at most 255 UTF-8 bytes whose components are
 * non-empty, not `.` or `..`, and free of backslashes and control characters. It names
 * a regular file; directories are implied by the components.
 */

/** Longest entry name, in UTF-8 bytes: the ustar prefix (155) and name (100) fields. */
export const MAX_ENTRY_NAME_BYTES = 255;

/** Why a name is refused: the reader's error code and what was expected and found. */
export interface NameProblem {
  readonly code: 'FO_PACKAGE_BAD_PATH' | 'FO_PACKAGE_ABSOLUTE_PATH' | 'FO_PACKAGE_PATH_TRAVERSAL' | 'FO_PACKAGE_NAME_ENCODING';
  readonly expected: string;
  readonly found: string;
}

const RELATIVE = 'a relative path';
// With the u flag a surrogate range matches only unpaired surrogates.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
const CONTROL = /\p{Cc}/u;

/**
 * Checks a decoded entry name against the rules above; undefined when it is fine.
 * The checks run most specific first: a name with a `..` component is reported as
 * traversal even when it also has, say, an empty component.
 */
export function entryNameProblem(name: string): NameProblem | undefined {
  if (name === '') return { code: 'FO_PACKAGE_BAD_PATH', expected: 'a non-empty name', found: 'an empty name' };
  if (LONE_SURROGATE.test(name)) {
    return { code: 'FO_PACKAGE_NAME_ENCODING', expected: 'a name that is valid Unicode', found: 'an unpaired UTF-16 surrogate' };
  }
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_ENTRY_NAME_BYTES) {
    return { code: 'FO_PACKAGE_BAD_PATH', expected: `a name of at most ${MAX_ENTRY_NAME_BYTES} UTF-8 bytes`, found: `${bytes} bytes` };
  }
  if (name.startsWith('/')) return { code: 'FO_PACKAGE_ABSOLUTE_PATH', expected: RELATIVE, found: 'a leading slash' };
  const components = name.split('/');
  if (components.includes('..')) return { code: 'FO_PACKAGE_PATH_TRAVERSAL', expected: 'no `..` component', found: 'a `..` component' };
  const control = CONTROL.exec(name);
  if (control !== null) {
    const codePoint = control[0].codePointAt(0) ?? 0;
    return {
      code: 'FO_PACKAGE_BAD_PATH',
      expected: 'no NUL or control characters',
      found: `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')} at character ${control.index}`,
    };
  }
  if (name.includes('\\')) return { code: 'FO_PACKAGE_BAD_PATH', expected: 'forward slashes only', found: 'a backslash' };
  if (name.endsWith('/')) return { code: 'FO_PACKAGE_BAD_PATH', expected: 'a file name', found: 'a trailing slash' };
  if (components.includes('')) return { code: 'FO_PACKAGE_BAD_PATH', expected: 'non-empty components', found: 'an empty component (`//`)' };
  if (components.includes('.')) return { code: 'FO_PACKAGE_BAD_PATH', expected: 'no `.` component', found: 'a `.` component' };
  return undefined;
}

/**
 * The key two names collide under: NFC-normalised and lower-cased, so that names a
 * case-insensitive or normalising file system (APFS, NTFS, most of Windows and macOS)
 * would store as one file are caught as duplicates on every platform.
 */
export function collisionKey(name: string): string {
  // Lower-casing can denormalise (U+0130 becomes i + U+0307), so normalise again.
  return name.normalize('NFC').toLowerCase().normalize('NFC');
}

/** How a new name collides with an earlier one. */
export interface NameCollision {
  /** The earlier name, as it appeared in the package. */
  readonly earlier: string;
  /** Why the two cannot coexist, as a phrase ("differs only in case or normalisation"). */
  readonly relation: string;
}

/**
 * Remembers accepted names and reports the first earlier name that a new one collides
 * with: the same collision key, or one of them being a directory the other needs
 * (`a` as a file and `a/b`), which no file system can hold at once.
 */
export class NameRegistry {
  /** collision key of each file -> its name */
  readonly #files = new Map<string, string>();
  /** collision key of each implied directory -> the first name that implied it */
  readonly #directories = new Map<string, string>();

  /** Records `name`, or returns the collision without recording it. O(components) per name. */
  add(name: string): NameCollision | undefined {
    const key = collisionKey(name);
    const same = this.#files.get(key);
    if (same !== undefined) {
      return { earlier: same, relation: same === name ? 'the same name' : 'a name that differs only in case or Unicode normalisation' };
    }
    const under = this.#directories.get(key);
    if (under !== undefined) return { earlier: under, relation: 'a name that needs this one to be a directory' };
    const parents = parentKeys(key);
    for (const parent of parents) {
      const file = this.#files.get(parent);
      if (file !== undefined) return { earlier: file, relation: 'a file where this name needs a directory' };
    }
    this.#files.set(key, name);
    for (const parent of parents) if (!this.#directories.has(parent)) this.#directories.set(parent, name);
    return undefined;
  }
}

/** `a/b/c` -> `a`, `a/b`. */
function parentKeys(key: string): string[] {
  const parents: string[] = [];
  for (let slash = key.indexOf('/'); slash !== -1; slash = key.indexOf('/', slash + 1)) parents.push(key.slice(0, slash));
  return parents;
}
