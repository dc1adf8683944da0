/**
 * The guest's file descriptor table: what each number refers to, with the rights and
 * flags fixed when it was opened. Numbers 0-2 are the standard streams, preopens
 * follow from 3, and new descriptors take the lowest free number from 3 up (0-2 are
 * only ever refilled by fd_renumber, so a closed stdout is never silently replaced
 * by a file). The table holds at most `limit` descriptors, counting stdio and
 * preopens; opening one more is EMFILE.
 */
import { closeSync } from 'node:fs';
import { ERRNO, rightNames } from './abi.js';
import { fail, refuse } from './errno.js';
import { hasRights } from './rights.js';
import type { WasiInput, WasiOutput } from './stdio.js';

/** What a descriptor refers to. */
export type FdKind = 'stdin' | 'stdout' | 'file' | 'directory';

/** What a new descriptor is made of; omitted fields take the values of an in-memory stream. */
export interface FdEntryInit {
  readonly kind: FdKind;
  /** preview1 `filetype`. */
  readonly filetype: number;
  readonly rightsBase: number;
  readonly rightsInheriting?: number;
  readonly fdflags?: number;
  /** The host descriptor; default -1 (an in-memory stream). */
  readonly hostFd?: number;
  /** Whether closing the entry closes `hostFd`; default false (the process's own stdio). */
  readonly ownsHostFd?: boolean;
  /** For directories: the host path resolution starts from (`/proc/self/fd/<n>` or the real path). */
  readonly root?: string;
  /** For directories: the guest path, for policy resources (`/data/sub`). */
  readonly guestPath?: string;
  /** For preopens: the name fd_prestat_dir_name returns, UTF-8. */
  readonly preopenName?: Uint8Array;
  readonly input?: WasiInput;
  readonly output?: WasiOutput;
}

/** One open descriptor. Every field is always present so all entries share one shape. */
export class FdEntry {
  readonly kind: FdKind;
  readonly filetype: number;
  /** Rights on the descriptor itself. */
  rightsBase: number;
  /** Rights that descriptors opened through it may get. */
  rightsInheriting: number;
  /** `fdflags` as the guest set them. */
  fdflags: number;
  /** The file offset (regular files), in bytes. */
  offset = 0;
  readonly hostFd: number;
  readonly ownsHostFd: boolean;
  readonly root: string;
  /** The guest path it was opened under; kept current when the guest renames it or a directory above it. */
  guestPath: string;
  readonly preopenName: Uint8Array | undefined;
  readonly input: WasiInput | undefined;
  readonly output: WasiOutput | undefined;
  /** For directories: cached listing for fd_readdir cookies. */
  listing: DirectoryListing | undefined = undefined;

  constructor(init: FdEntryInit) {
    this.kind = init.kind;
    this.filetype = init.filetype;
    this.rightsBase = init.rightsBase;
    this.rightsInheriting = init.rightsInheriting ?? 0;
    this.fdflags = init.fdflags ?? 0;
    this.hostFd = init.hostFd ?? -1;
    this.ownsHostFd = init.ownsHostFd ?? false;
    this.root = init.root ?? '';
    this.guestPath = init.guestPath ?? '';
    this.preopenName = init.preopenName;
    this.input = init.input;
    this.output = init.output;
  }
}

/** A snapshot of a directory's entries, so fd_readdir cookies stay stable between calls. */
export interface DirectoryListing {
  readonly names: readonly string[];
  /** Inode and type per name, filled as entries are returned. */
  readonly details: ({ readonly ino: bigint; readonly filetype: number } | undefined)[];
}

/** The descriptor table of one guest. */
export class FdTable {
  readonly #entries: (FdEntry | undefined)[] = [];
  /** `fd:<n>` strings, made once per number so policy checks on fd calls allocate nothing. */
  readonly #resources: string[] = [];
  #count = 0;

  /** @param limit most descriptors open at once, counting stdio and preopens */
  constructor(readonly limit: number) {}

  /** Descriptors open now. */
  get size(): number {
    return this.#count;
  }

  /** The entry for `fd`. @throws EBADF */
  get(fd: number): FdEntry {
    const entry = this.#entries[fd];
    if (entry === undefined) fail(ERRNO.EBADF);
    return entry;
  }

  /** The entry for `fd` when it holds every right in `rights`. @throws EBADF, WasiRefusal ENOTCAPABLE */
  require(fd: number, rights: number): FdEntry {
    const entry = this.#entries[fd];
    if (entry === undefined) fail(ERRNO.EBADF);
    if (!hasRights(entry.rightsBase, rights)) refuse(ERRNO.ENOTCAPABLE, `descriptor ${fd} lacks the right ${rightNames(rights & ~entry.rightsBase)}`, this.resourceOf(fd));
    return entry;
  }

  /**
   * Records that the guest renamed `from` to `to` (guest paths): every descriptor
   * opened at `from` or below it is now known by the new path.
   */
  moved(from: string, to: string): void {
    const prefix = from.endsWith('/') ? from : `${from}/`;
    for (const entry of this.#entries) {
      if (entry === undefined || entry.guestPath === '') continue;
      if (entry.guestPath === from) entry.guestPath = to;
      else if (entry.guestPath.startsWith(prefix)) entry.guestPath = `${to.endsWith('/') ? to : `${to}/`}${entry.guestPath.slice(prefix.length)}`;
    }
  }

  /** True when `fd` is open. */
  has(fd: number): boolean {
    return this.#entries[fd] !== undefined;
  }

  /** The policy resource naming `fd` (`fd:3`). */
  resourceOf(fd: number): string {
    return this.#resources[fd] ?? `fd:${fd}`;
  }

  /** Places `entry` at `fd` (stdio and preopens at start-up). */
  place(fd: number, entry: FdEntry): void {
    if (this.#entries[fd] !== undefined) fail(ERRNO.EBADF);
    if (this.#count >= this.limit) fail(ERRNO.EMFILE);
    this.#set(fd, entry);
    this.#count += 1;
  }

  /** Adds `entry` at the lowest free number from 3. @throws EMFILE */
  add(entry: FdEntry): number {
    if (this.#count >= this.limit) refuse(ERRNO.EMFILE, `the descriptor table is full (${this.limit} descriptors)`, entry.guestPath === '' ? undefined : entry.guestPath);
    let fd = 3;
    while (this.#entries[fd] !== undefined) fd += 1;
    this.#set(fd, entry);
    this.#count += 1;
    return fd;
  }

  /** Closes `fd`, and its host descriptor when the table owns it. @throws EBADF */
  close(fd: number): void {
    const entry = this.get(fd);
    this.#entries[fd] = undefined;
    this.#count -= 1;
    release(entry);
  }

  /**
   * Moves `from` onto `to`, closing what `to` held. Both must be open (preview1 has no
   * dup2 onto a free number). @throws EBADF
   */
  renumber(from: number, to: number): void {
    const entry = this.get(from);
    const replaced = this.get(to);
    if (from === to) return;
    this.#entries[from] = undefined;
    this.#entries[to] = entry;
    this.#count -= 1;
    release(replaced);
  }

  /** Closes every descriptor. Safe to call twice. */
  closeAll(): void {
    for (let fd = 0; fd < this.#entries.length; fd += 1) {
      const entry = this.#entries[fd];
      if (entry === undefined) continue;
      this.#entries[fd] = undefined;
      release(entry);
    }
    this.#count = 0;
  }

  #set(fd: number, entry: FdEntry): void {
    this.#entries[fd] = entry;
    this.#resources[fd] ??= `fd:${fd}`;
  }
}

function release(entry: FdEntry): void {
  if (!entry.ownsHostFd || entry.hostFd < 0) return;
  try {
    closeSync(entry.hostFd);
  } catch {
    // The guest's view is already updated; a failing host close leaks nothing it can reach.
  }
}
