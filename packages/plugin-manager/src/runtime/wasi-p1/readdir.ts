/**
 * Directory listings for fd_readdir. A listing is `.`, `..`, then the host's entries
 * in the host's order; entry i has cookie i+1 (its `d_next`). Reading from cookie 0
 * takes a fresh snapshot, later cookies continue the snapshot, so a guest paging
 * through a directory with a small buffer sees each entry once even if it changes.
 * Inode numbers and types come from lstat, one entry at a time as they are returned;
 * `..` reports inode 0 (wasi-libc's convention for "unknown"), since its directory
 * lies above the descriptor's root.
 */
import { fstatSync, lstatSync, readdirSync } from 'node:fs';
import { FILETYPE } from './abi.js';
import type { DirectoryListing, FdEntry } from './fd-table.js';
import { filetypeOf } from './filestat.js';

/** One entry as fd_readdir returns it. */
export interface DirectoryEntry {
  /** The cookie of the next entry. */
  readonly next: bigint;
  readonly ino: bigint;
  readonly filetype: number;
  /** The name's UTF-8 bytes. */
  readonly name: Buffer;
}

/** The listing of `entry` (a directory) to read from `cookie`: a new snapshot at cookie 0. */
export function listingFor(entry: FdEntry, cookie: bigint): DirectoryListing {
  if (cookie === 0n || entry.listing === undefined) {
    const names = ['.', '..', ...readdirSync(entry.root)];
    entry.listing = { names, details: new Array<undefined>(names.length).fill(undefined) };
  }
  return entry.listing;
}

/** Entry `index` of `listing`, or undefined past its end. */
export function entryAt(entry: FdEntry, listing: DirectoryListing, index: number): DirectoryEntry | undefined {
  const name = listing.names[index];
  if (name === undefined) return undefined;
  let details = listing.details[index];
  if (details === undefined) {
    if (name === '.') details = { ino: fstatSync(entry.hostFd, { bigint: true }).ino, filetype: FILETYPE.DIRECTORY };
    else if (name === '..') details = { ino: 0n, filetype: FILETYPE.DIRECTORY };
    else {
      // An entry removed since the snapshot is still listed, with an unknown type.
      const stats = lstatSync(`${entry.root}/${name}`, { bigint: true, throwIfNoEntry: false });
      details = stats === undefined ? { ino: 0n, filetype: FILETYPE.UNKNOWN } : { ino: stats.ino, filetype: filetypeOf(stats) };
    }
    listing.details[index] = details;
  }
  return { next: BigInt(index + 1), ino: details.ino, filetype: details.filetype, name: Buffer.from(name, 'utf8') };
}
