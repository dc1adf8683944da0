import { ForgeError, describeValue, formatSize, type ErrorCode } from '@forgeone/common';
import { NameRegistry, entryNameProblem } from './entry-name.js';
import type { ArchiveLimits } from './limits.js';
import { headerChecksum, magicProblem, nameBytesOf, sizeOf, typeflagOf } from './ustar.js';

/** A header that passed every check: the entry's name, size in bytes and header offset. */
export interface CheckedHeader {
  readonly path: string;
  readonly size: number;
  /** Offset of the header block in the decompressed tar stream, in bytes. */
  readonly offset: number;
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });
const LOSSY_UTF8 = new TextDecoder('utf-8');

/** Why each non-regular typeflag is refused. Regular files are '0' and '\0'. */
const TYPE_REFUSALS: Readonly<Record<string, readonly [ErrorCode, string]>> = {
  '1': ['FO_PACKAGE_HARDLINK', 'a hard link'],
  '2': ['FO_PACKAGE_SYMLINK', 'a symbolic link'],
  '3': ['FO_PACKAGE_DEVICE', 'a character device'],
  '4': ['FO_PACKAGE_DEVICE', 'a block device'],
  '6': ['FO_PACKAGE_DEVICE', 'a FIFO'],
  '5': ['FO_PACKAGE_ENTRY_TYPE', 'a directory'],
  '7': ['FO_PACKAGE_ENTRY_TYPE', 'a contiguous file (typeflag 7)'],
  x: ['FO_PACKAGE_ENTRY_TYPE', 'a pax extended header'],
  g: ['FO_PACKAGE_ENTRY_TYPE', 'a pax global header'],
  L: ['FO_PACKAGE_ENTRY_TYPE', 'a GNU long name header'],
  K: ['FO_PACKAGE_ENTRY_TYPE', 'a GNU long link name header'],
};

/**
 * Applies the package rules to each tar header in turn, keeping the running counts the
 * limits need. One checker per archive; pure logic, no I/O.
 *
 * Checks run in this order, so the reported code is the first rule broken: checksum,
 * entry count, type, ustar magic, size field, name (encoding, then the rules of
 * entry-name.ts), file size, unpacked total, collision with an earlier name.
 */
export class EntryChecker {
  readonly #limits: ArchiveLimits;
  readonly #names = new NameRegistry();
  #entries = 0;
  #unpacked = 0;

  constructor(limits: ArchiveLimits) {
    this.#limits = limits;
  }

  /** Entries accepted so far. */
  get entries(): number {
    return this.#entries;
  }

  /**
   * Checks the non-zero header block found at `offset` and returns the entry it opens.
   *
   * @throws ForgeError FO_PACKAGE_CORRUPT (checksum, magic, size field),
   *   FO_PACKAGE_TOO_MANY_ENTRIES, FO_PACKAGE_HARDLINK, FO_PACKAGE_SYMLINK,
   *   FO_PACKAGE_DEVICE, FO_PACKAGE_ENTRY_TYPE, FO_PACKAGE_NAME_ENCODING,
   *   FO_PACKAGE_BAD_PATH, FO_PACKAGE_ABSOLUTE_PATH, FO_PACKAGE_PATH_TRAVERSAL,
   *   FO_PACKAGE_ENTRY_TOO_LARGE, FO_PACKAGE_UNPACKED_TOO_LARGE, FO_PACKAGE_DUPLICATE_ENTRY.
   */
  check(block: Uint8Array, offset: number): CheckedHeader {
    const { bytes, strayBytes } = nameBytesOf(block);
    // Until the name is known to be valid UTF-8, messages show it decoded lossily.
    const shown = LOSSY_UTF8.decode(bytes);
    const fail = (code: ErrorCode, expected: string, found: string, details: Record<string, unknown> = {}): ForgeError =>
      new ForgeError(code, `entry ${describeValue(shown)} at tar offset ${offset}: expected ${expected}, found ${found}`, {
        details: { entry: shown, offset, ...details },
      });

    const sum = headerChecksum(block);
    if (sum.stored === undefined) throw fail('FO_PACKAGE_CORRUPT', 'an octal header checksum', 'an unparsable checksum field');
    if (sum.stored !== sum.unsigned && sum.stored !== sum.signed) {
      throw fail('FO_PACKAGE_CORRUPT', `header checksum ${sum.unsigned}`, `${sum.stored} (the header is damaged)`, {
        expected: sum.unsigned,
        actual: sum.stored,
      });
    }
    if (this.#entries >= this.#limits.maxEntries) {
      throw fail('FO_PACKAGE_TOO_MANY_ENTRIES', `at most ${this.#limits.maxEntries} entries`, `entry number ${this.#entries + 1}`, {
        limit: this.#limits.maxEntries,
        actual: this.#entries + 1,
      });
    }
    const typeflag = typeflagOf(block);
    if (typeflag !== '0' && typeflag !== '\0') {
      const [code, what] = TYPE_REFUSALS[typeflag] ?? ['FO_PACKAGE_ENTRY_TYPE', `an entry of unknown type ${describeValue(typeflag)}`];
      throw fail(code, 'a regular file', what, { typeflag });
    }
    const magic = magicProblem(block);
    if (magic !== undefined) throw fail('FO_PACKAGE_CORRUPT', 'a POSIX ustar header (magic "ustar", version "00"; tar --format=ustar)', magic);
    const size = sizeOf(block);
    if (size === undefined) throw fail('FO_PACKAGE_CORRUPT', 'an octal size field', 'an unparsable size field');

    if (strayBytes) throw fail('FO_PACKAGE_BAD_PATH', 'a name field ended by NUL padding', 'bytes after a NUL in the name');
    let path: string;
    try {
      path = STRICT_UTF8.decode(bytes);
    } catch {
      throw fail('FO_PACKAGE_NAME_ENCODING', 'a UTF-8 name', `invalid UTF-8 (bytes ${Buffer.from(bytes).toString('hex')})`, {
        nameHex: Buffer.from(bytes).toString('hex'),
      });
    }
    const problem = entryNameProblem(path);
    if (problem !== undefined) throw fail(problem.code, problem.expected, problem.found);

    if (size > this.#limits.maxFileSize) {
      const found = Number.isFinite(size) ? `${size} bytes` : 'more than 2^53 bytes';
      throw fail('FO_PACKAGE_ENTRY_TOO_LARGE', `at most ${formatSize(this.#limits.maxFileSize)} per file`, found, {
        limit: this.#limits.maxFileSize,
        actual: Number.isFinite(size) ? size : found,
      });
    }
    const unpacked = this.#unpacked + size;
    if (unpacked > this.#limits.maxUnpackedSize) {
      throw fail('FO_PACKAGE_UNPACKED_TOO_LARGE', `at most ${formatSize(this.#limits.maxUnpackedSize)} unpacked`, `${unpacked} bytes with this entry`, {
        limit: this.#limits.maxUnpackedSize,
        actual: unpacked,
      });
    }
    const collision = this.#names.add(path);
    if (collision !== undefined) {
      throw fail('FO_PACKAGE_DUPLICATE_ENTRY', 'a name unique in the package', `a collision with ${describeValue(collision.earlier)}, ${collision.relation}`, {
        earlier: collision.earlier,
      });
    }
    this.#entries += 1;
    this.#unpacked = unpacked;
    return { path, size, offset };
  }
}
