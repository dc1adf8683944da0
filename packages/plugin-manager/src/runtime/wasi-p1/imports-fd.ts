/**
 * The fd_* host functions: marshalling only. Each one passes the gate once with the
 * call name and `fd:<n>` (strings made in advance), checks every guest pointer it
 * will touch before the core acts, calls the core, and writes results back.
 */
import { ERRNO, LAYOUT, MAX_IOVECS, PREOPENTYPE_DIR } from './abi.js';
import { fail } from './errno.js';
import { CALL, errnoFor, hasUnknownRights, rightsOf, u64, writeFdstat, writeFilestat, type HostFunction, type ImportContext } from './marshal.js';

const { SUCCESS, EACCES, ENAMETOOLONG, ENOTCAPABLE } = ERRNO;

/** The fd_* functions of one guest. */
export function fdImports(ctx: ImportContext): Record<string, HostFunction> {
  const { core, memory, gate } = ctx;
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

  /** Reads into (or writes from) each iovec in turn, stopping at the first short transfer. */
  const transfer = (fd: number, iovs: number, count: number, write: boolean, position: bigint | undefined): number => {
    checkIovecs(iovs, count);
    const { u8, view } = memory;
    if (count === 0) return write ? core.fdWrite(fd, u8, 0, 0) : core.fdRead(fd, u8, 0, 0);
    let total = 0;
    for (let index = 0; index < count; index += 1) {
      const at = iovs + index * LAYOUT.IOVEC_SIZE;
      const ptr = view.getUint32(at, true);
      const length = view.getUint32(at + 4, true);
      let done: number;
      if (position === undefined) done = write ? core.fdWrite(fd, u8, ptr, length) : core.fdRead(fd, u8, ptr, length);
      else done = write ? core.fdPwrite(fd, u8, ptr, length, position + BigInt(total)) : core.fdPread(fd, u8, ptr, length, position + BigInt(total));
      total += done;
      if (done < length) break;
    }
    return total;
  };

  return {
    fd_advise(fd: number, offset: bigint, length: bigint, advice: number): number {
      const f = fd >>> 0;
      if (gate.check(CALL.fd_advise, table.resourceOf(f)) !== undefined) return EACCES;
      try {
        core.fdAdvise(f, u64(offset), u64(length), advice >>> 0);
        return SUCCESS;
      } catch (error) {
        return errnoFor(error);
      }
    },

    fd_allocate(fd: number, offset: bigint, length: bigint): number {
      const f = fd >>> 0;
      if (gate.check(CALL.fd_allocate, table.resourceOf(f)) !== undefined) return EACCES;
      try {
        core.fdAllocate(f, u64(offset), u64(length));
        return SUCCESS;
      } catch (error) {
        return errnoFor(error);
      }
    },

    fd_close(fd: number): number {
      const f = fd >>> 0;
      if (gate.check(CALL.fd_close, table.resourceOf(f)) !== undefined) return EACCES;
      try {
        core.fdClose(f);
        return SUCCESS;
      } catch (error) {
        return errnoFor(error);
      }
    },

    fd_datasync(fd: number): number {
      const f = fd >>> 0;
      if (gate.check(CALL.fd_datasync, table.resourceOf(f)) !== undefined) return EACCES;
      try {
        core.fdDatasync(f);
        return SUCCESS;
      } catch (error) {
        return errnoFor(error);
      }
    },

    fd_fdstat_get(fd: number, out: number): number {
      const f = fd >>> 0;
      if (gate.check(CALL.fd_fdstat_get, table.resourceOf(f)) !== undefined) return EACCES;
      try {
        memory.refresh();
        memory.check(out >>> 0, LAYOUT.FDSTAT_SIZE);
        writeFdstat(memory, out >>> 0, core.fdFdstat(f));
        return SUCCESS;
      } catch (error) {
        return errnoFor(error);
      }
    },

    fd_fdstat_set_flags(fd: number, flags: number): number {
      const f = fd >>> 0;
      if (gate.check(CALL.fd_fdstat_set_flags, table.resourceOf(f)) !== undefined) return EACCES;
      try {
        core.fdSetFlags(f, flags & 0xffff);
        return SUCCESS;
      } catch (error) {
        return errnoFor(error);
      }
    },

    fd_fdstat_set_rights(fd: number, base: bigint, inheriting: bigint): number {
      const f = fd >>> 0;
      if (gate.check(CALL.fd_fdstat_set_rights, table.resourceOf(f)) !== undefined) return EACCES;
      try {
        // Bits preview1 does not define are rights nobody holds: asking for them adds rights.
        if (hasUnknownRights(base) || hasUnknownRights(inheriting)) {
          table.get(f);
          return ENOTCAPABLE;
        }
        core.fdSetRights(f, rightsOf(base), rightsOf(inheriting));
        return SUCCESS;
      } catch (error) {
        return errnoFor(error);
      }
    },

    fd_filestat_get(fd: number, out: number): number {
      const f = fd >>> 0;
      if (gate.check(CALL.fd_filestat_get, table.resourceOf(f)) !== undefined) return EACCES;
      try {
        memory.refresh();
        memory.check(out >>> 0, LAYOUT.FILESTAT_SIZE);
        writeFilestat(memory, out >>> 0, core.fdFilestat(f));
        return SUCCESS;
      } catch (error) {
        return errnoFor(error);
      }
    },

    fd_filestat_set_size(fd: number, size: bigint): number {
      const f = fd >>> 0;
      if (gate.check(CALL.fd_filestat_set_size, table.resourceOf(f)) !== undefined) return EACCES;
      try {
        core.fdSetSize(f, u64(size));
        return SUCCESS;
      } catch (error) {
        return errnoFor(error);
      }
    },

    fd_filestat_set_times(fd: number, atim: bigint, mtim: bigint, fstflags: number): number {
      const f = fd >>> 0;
      if (gate.check(CALL.fd_filestat_set_times, table.resourceOf(f)) !== undefined) return EACCES;
      try {
        core.fdSetTimes(f, u64(atim), u64(mtim), fstflags & 0xffff);
        return SUCCESS;
      } catch (error) {
        return errnoFor(error);
      }
    },

    fd_pread(fd: number, iovs: number, count: number, offset: bigint, nread: number): number {
      const f = fd >>> 0;
      if (gate.check(CALL.fd_pread, table.resourceOf(f)) !== undefined) return EACCES;
      try {
        memory.refresh();
        memory.check(nread >>> 0, 4);
        memory.view.setUint32(nread >>> 0, transfer(f, iovs >>> 0, count >>> 0, false, u64(offset)), true);
        return SUCCESS;
      } catch (error) {
        return errnoFor(error);
      }
    },

    fd_prestat_get(fd: number, out: number): number {
      const f = fd >>> 0;
      if (gate.check(CALL.fd_prestat_get, table.resourceOf(f)) !== undefined) return EACCES;
      try {
        memory.refresh();
        memory.check(out >>> 0, LAYOUT.PRESTAT_SIZE);
        const name = core.fdPrestatName(f);
        memory.view.setUint32(out >>> 0, PREOPENTYPE_DIR, true);
        memory.view.setUint32((out >>> 0) + 4, name.length, true);
        return SUCCESS;
      } catch (error) {
        return errnoFor(error);
      }
    },

    fd_prestat_dir_name(fd: number, path: number, length: number): number {
      const f = fd >>> 0;
      if (gate.check(CALL.fd_prestat_dir_name, table.resourceOf(f)) !== undefined) return EACCES;
      try {
        memory.refresh();
        memory.check(path >>> 0, length >>> 0);
        const name = core.fdPrestatName(f);
        if (name.length > length >>> 0) return ENAMETOOLONG;
        memory.u8.set(name, path >>> 0);
        return SUCCESS;
      } catch (error) {
        return errnoFor(error);
      }
    },

    fd_pwrite(fd: number, iovs: number, count: number, offset: bigint, nwritten: number): number {
      const f = fd >>> 0;
      if (gate.check(CALL.fd_pwrite, table.resourceOf(f)) !== undefined) return EACCES;
      try {
        memory.refresh();
        memory.check(nwritten >>> 0, 4);
        memory.view.setUint32(nwritten >>> 0, transfer(f, iovs >>> 0, count >>> 0, true, u64(offset)), true);
        return SUCCESS;
      } catch (error) {
        return errnoFor(error);
      }
    },

    fd_read(fd: number, iovs: number, count: number, nread: number): number {
      const f = fd >>> 0;
      if (gate.check(CALL.fd_read, table.resourceOf(f)) !== undefined) return EACCES;
      try {
        memory.refresh();
        memory.check(nread >>> 0, 4);
        memory.view.setUint32(nread >>> 0, transfer(f, iovs >>> 0, count >>> 0, false, undefined), true);
        return SUCCESS;
      } catch (error) {
        return errnoFor(error);
      }
    },

    fd_readdir(fd: number, buf: number, length: number, cookie: bigint, used: number): number {
      const f = fd >>> 0;
      if (gate.check(CALL.fd_readdir, table.resourceOf(f)) !== undefined) return EACCES;
      try {
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
      } catch (error) {
        return errnoFor(error);
      }
    },

    fd_renumber(from: number, to: number): number {
      const f = from >>> 0;
      if (gate.check(CALL.fd_renumber, table.resourceOf(f)) !== undefined) return EACCES;
      try {
        core.fdRenumber(f, to >>> 0);
        return SUCCESS;
      } catch (error) {
        return errnoFor(error);
      }
    },

    fd_seek(fd: number, delta: bigint, whence: number, out: number): number {
      const f = fd >>> 0;
      if (gate.check(CALL.fd_seek, table.resourceOf(f)) !== undefined) return EACCES;
      try {
        memory.refresh();
        memory.check(out >>> 0, 8);
        memory.view.setBigUint64(out >>> 0, core.fdSeek(f, delta, whence & 0xff), true);
        return SUCCESS;
      } catch (error) {
        return errnoFor(error);
      }
    },

    fd_sync(fd: number): number {
      const f = fd >>> 0;
      if (gate.check(CALL.fd_sync, table.resourceOf(f)) !== undefined) return EACCES;
      try {
        core.fdSync(f);
        return SUCCESS;
      } catch (error) {
        return errnoFor(error);
      }
    },

    fd_tell(fd: number, out: number): number {
      const f = fd >>> 0;
      if (gate.check(CALL.fd_tell, table.resourceOf(f)) !== undefined) return EACCES;
      try {
        memory.refresh();
        memory.check(out >>> 0, 8);
        memory.view.setBigUint64(out >>> 0, BigInt(core.fdTell(f)), true);
        return SUCCESS;
      } catch (error) {
        return errnoFor(error);
      }
    },

    fd_write(fd: number, iovs: number, count: number, nwritten: number): number {
      const f = fd >>> 0;
      if (gate.check(CALL.fd_write, table.resourceOf(f)) !== undefined) return EACCES;
      try {
        memory.refresh();
        memory.check(nwritten >>> 0, 4);
        memory.view.setUint32(nwritten >>> 0, transfer(f, iovs >>> 0, count >>> 0, true, undefined), true);
        return SUCCESS;
      } catch (error) {
        return errnoFor(error);
      }
    },
  };
}
