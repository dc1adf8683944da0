/**
 * The fd_* host functions: marshalling only. Each one is made with {@link onFd}
 * (one gate check with `fd:<n>`, errno mapping, refusals reported), checks every guest
 * pointer it will touch before the core acts, calls the core, and writes results back.
 */
import { ERRNO, LAYOUT, MAX_IOVECS, PREOPENTYPE_DIR } from './abi.js';
import { fail, refuse } from './errno.js';
import { hasUnknownRights, rightsOf, u64, writeFdstat, writeFilestat, type HostFunction, type ImportContext } from './marshal.js';
import { decidesItself, onFd } from './serve.js';

const { SUCCESS, ENAMETOOLONG, ENOTCAPABLE } = ERRNO;

/** The fd_* functions of one guest. */
export function fdImports(ctx: ImportContext): Record<string, HostFunction> {
  const { core, memory } = ctx;
  const table = core.table;

  /**
   * Checks every iovec of a list before any byte moves, so a bad pointer fails the
   * whole call with EFAULT instead of leaving part of it done. More than 1024 is EINVAL.
   */
  const checkIovecs = (iovs: number, count: number): void => {
    if (count > MAX_IOVECS) fail(ERRNO.EINVAL);
    memory.check(iovs, count * LAYOUT.IOVEC_SIZE);
    const view = memory.view;
    for (let index = 0; index < count; index += 1) {
      const at = iovs + index * LAYOUT.IOVEC_SIZE;
      memory.check(view.getUint32(at, true), view.getUint32(at + 4, true));
    }
  };

  /** Reads into (or writes from) the iovec list, after checking it: one host call for the whole list (host-io.ts). */
  const transfer = (fd: number, iovs: number, count: number, write: boolean, position: bigint | undefined): number => {
    checkIovecs(iovs, count);
    const u8 = memory.u8;
    if (position === undefined) return write ? core.fdWrite(fd, u8, iovs, count) : core.fdRead(fd, u8, iovs, count);
    return write ? core.fdPwrite(fd, u8, iovs, count, position) : core.fdPread(fd, u8, iovs, count, position);
  };

  /** A transfer whose count goes to the u32 at `out`. */
  const transferTo = (fd: number, iovs: number, count: number, out: number, write: boolean, position: bigint | undefined): number => {
    memory.refresh();
    memory.check(out >>> 0, 4);
    memory.view.setUint32(out >>> 0, transfer(fd, iovs >>> 0, count >>> 0, write, position), true);
    return SUCCESS;
  };

  return {
    fd_advise: onFd(ctx, 'fd_advise', (f, offset: bigint, length: bigint, advice: number) => {
      core.fdAdvise(f, u64(offset), u64(length), advice >>> 0);
      return SUCCESS;
    }),

    fd_allocate: onFd(ctx, 'fd_allocate', (f, offset: bigint, length: bigint) => {
      core.fdAllocate(f, u64(offset), u64(length));
      return SUCCESS;
    }),

    fd_close: onFd(ctx, 'fd_close', (f) => {
      core.fdClose(f);
      return SUCCESS;
    }),

    fd_datasync: onFd(ctx, 'fd_datasync', (f) => {
      core.fdDatasync(f);
      return SUCCESS;
    }),

    fd_fdstat_get: onFd(ctx, 'fd_fdstat_get', (f, out: number) => {
      memory.refresh();
      memory.check(out >>> 0, LAYOUT.FDSTAT_SIZE);
      writeFdstat(memory, out >>> 0, core.fdFdstat(f));
      return SUCCESS;
    }),

    fd_fdstat_set_flags: onFd(ctx, 'fd_fdstat_set_flags', (f, flags: number) => {
      core.fdSetFlags(f, flags & 0xffff);
      return SUCCESS;
    }),

    fd_fdstat_set_rights: onFd(ctx, 'fd_fdstat_set_rights', (f, base: bigint, inheriting: bigint) => {
      // Bits preview1 does not define are rights nobody holds: asking for them adds rights.
      if (hasUnknownRights(base) || hasUnknownRights(inheriting)) {
        table.get(f);
        refuse(ENOTCAPABLE, 'fd_fdstat_set_rights asked for rights preview1 does not define', table.resourceOf(f));
      }
      core.fdSetRights(f, rightsOf(base), rightsOf(inheriting));
      return SUCCESS;
    }),

    fd_filestat_get: onFd(ctx, 'fd_filestat_get', (f, out: number) => {
      memory.refresh();
      memory.check(out >>> 0, LAYOUT.FILESTAT_SIZE);
      writeFilestat(memory, out >>> 0, core.fdFilestat(f));
      return SUCCESS;
    }),

    fd_filestat_set_size: onFd(ctx, 'fd_filestat_set_size', (f, size: bigint) => {
      core.fdSetSize(f, u64(size));
      return SUCCESS;
    }),

    // A write on the file's path: the core asks policy itself.
    fd_filestat_set_times: decidesItself(ctx, 'fd_filestat_set_times', (fd: number, atim: bigint, mtim: bigint, fstflags: number) => {
      core.fdSetTimes(fd >>> 0, u64(atim), u64(mtim), fstflags & 0xffff);
      return SUCCESS;
    }),

    fd_pread: onFd(ctx, 'fd_pread', (f, iovs: number, count: number, offset: bigint, nread: number) => transferTo(f, iovs, count, nread, false, u64(offset))),

    fd_prestat_get: onFd(ctx, 'fd_prestat_get', (f, out: number) => {
      memory.refresh();
      memory.check(out >>> 0, LAYOUT.PRESTAT_SIZE);
      const name = core.fdPrestatName(f);
      memory.view.setUint32(out >>> 0, PREOPENTYPE_DIR, true);
      memory.view.setUint32((out >>> 0) + 4, name.length, true);
      return SUCCESS;
    }),

    fd_prestat_dir_name: onFd(ctx, 'fd_prestat_dir_name', (f, path: number, length: number) => {
      memory.refresh();
      memory.check(path >>> 0, length >>> 0);
      const name = core.fdPrestatName(f);
      if (name.length > length >>> 0) return ENAMETOOLONG;
      memory.u8.set(name, path >>> 0);
      return SUCCESS;
    }),

    fd_pwrite: onFd(ctx, 'fd_pwrite', (f, iovs: number, count: number, offset: bigint, nwritten: number) => transferTo(f, iovs, count, nwritten, true, u64(offset))),

    fd_read: onFd(ctx, 'fd_read', (f, iovs: number, count: number, nread: number) => transferTo(f, iovs, count, nread, false, undefined)),

    fd_readdir: onFd(ctx, 'fd_readdir', (f, buf: number, length: number, cookie: bigint, used: number) => {
      const start = buf >>> 0;
      const size = length >>> 0;
      memory.refresh();
      memory.check(start, size);
      memory.check(used >>> 0, 4);
      const entryAt = core.fdReaddir(f, u64(cookie));
      const header = Buffer.alloc(LAYOUT.DIRENT_SIZE);
      let filled = 0;
      for (let index = 0; filled < size; index += 1) {
        const entry = entryAt(index);
        if (entry === undefined) break;
        header.fill(0);
        header.writeBigUInt64LE(entry.next, 0);
        header.writeBigUInt64LE(entry.ino, 8);
        header.writeUInt32LE(entry.name.length, 16);
        header.writeUInt8(entry.filetype, 20);
        // The last entry may be cut short: preview1 lets the guest see that and grow its buffer.
        for (const part of [header, entry.name]) {
          const take = Math.min(part.length, size - filled);
          memory.u8.set(part.subarray(0, take), start + filled);
          filled += take;
        }
      }
      memory.view.setUint32(used >>> 0, filled, true);
      return SUCCESS;
    }),

    fd_renumber: onFd(ctx, 'fd_renumber', (f, to: number) => {
      core.fdRenumber(f, to >>> 0);
      return SUCCESS;
    }),

    fd_seek: onFd(ctx, 'fd_seek', (f, delta: bigint, whence: number, out: number) => {
      memory.refresh();
      memory.check(out >>> 0, 8);
      memory.view.setBigUint64(out >>> 0, core.fdSeek(f, delta, whence & 0xff), true);
      return SUCCESS;
    }),

    fd_sync: onFd(ctx, 'fd_sync', (f) => {
      core.fdSync(f);
      return SUCCESS;
    }),

    fd_tell: onFd(ctx, 'fd_tell', (f, out: number) => {
      memory.refresh();
      memory.check(out >>> 0, 8);
      memory.view.setBigUint64(out >>> 0, BigInt(core.fdTell(f)), true);
      return SUCCESS;
    }),

    fd_write: onFd(ctx, 'fd_write', (f, iovs: number, count: number, nwritten: number) => transferTo(f, iovs, count, nwritten, true, undefined)),
  };
}
