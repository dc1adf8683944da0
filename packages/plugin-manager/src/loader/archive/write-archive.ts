import { ForgeError, describeValue } from '@forgeone/common';
import { NameRegistry, entryNameProblem } from './entry-name.js';
import { gzipDeterministic } from './gzip-framing.js';
import { BLOCK_SIZE, MAX_OCTAL_SIZE, encodeUstarHeader, splitUstarName } from './ustar.js';

/** One file to pack: its entry name (a relative POSIX path) and content. */
export interface ArchiveFile {
  readonly path: string;
  readonly data: Uint8Array;
}

/**
 * Packs regular files into a deterministic .forgepkg archive: gzip around ustar.
 *
 * Entries are sorted by the UTF-8 bytes of their names; every header has mode 0644,
 * uid and gid 0, empty user and group names, mtime 0 and typeflag '0'; names over 100
 * bytes use the ustar prefix field; the archive ends with two zero blocks and no record
 * padding. The gzip member has a fixed header (1f 8b 08 00, mtime 0, XFL 2, OS 255),
 * zlib's deflate at level 9 and a CRC-32 + ISIZE trailer. So the same set of
 * files gives the same bytes whatever their order; across machines the tar stream is
 * always identical, and the compressed bytes are as long as the zlib build is the same.
 * `level` (default 9) is lower only where the bytes are not published but stored: a
 * package pulled from a registry to be installed (same content digest, other file bytes).
 *
 * @throws ForgeError FO_PACK_SOURCE_INVALID for a name the reader would refuse (see
 *   entry-name.ts), a name that cannot be split over the ustar fields, two names that
 *   collide (also case-insensitively), or a file of 8 GiB or more.
 */
export function writeArchive(files: readonly ArchiveFile[], level = 9): Buffer {
  const encoded = files.map((file) => ({ file, name: Buffer.from(file.path, 'utf8') }));
  encoded.sort((a, b) => Buffer.compare(a.name, b.name));
  const names = new NameRegistry();
  const blocks: Uint8Array[] = [];
  for (const { file, name } of encoded) {
    const problem = entryNameProblem(file.path);
    if (problem !== undefined) throw invalid(file.path, problem.expected, problem.found, { rule: problem.code });
    const collision = names.add(file.path);
    if (collision !== undefined) throw invalid(file.path, 'a unique name', `a collision with ${describeValue(collision.earlier)}, ${collision.relation}`);
    const split = splitUstarName(name);
    if (split === undefined) {
      throw invalid(file.path, 'a name whose last 100 bytes or fewer follow a `/` at most 155 bytes in (the ustar name and prefix fields)', 'no such `/`');
    }
    if (file.data.length > MAX_OCTAL_SIZE) throw invalid(file.path, `at most ${MAX_OCTAL_SIZE} bytes`, `${file.data.length} bytes`);
    blocks.push(encodeUstarHeader(split, file.data.length), file.data);
    const padding = (BLOCK_SIZE - (file.data.length % BLOCK_SIZE)) % BLOCK_SIZE;
    if (padding > 0) blocks.push(new Uint8Array(padding));
  }
  blocks.push(new Uint8Array(2 * BLOCK_SIZE));
  return gzipDeterministic(Buffer.concat(blocks), level);
}

function invalid(path: string, expected: string, found: string, details: Record<string, unknown> = {}): ForgeError {
  return new ForgeError('FO_PACK_SOURCE_INVALID', `cannot pack ${describeValue(path)}: expected ${expected}, found ${found}`, {
    details: { entry: path, ...details },
  });
}
