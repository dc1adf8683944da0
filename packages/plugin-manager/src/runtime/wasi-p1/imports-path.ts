/**
 * The path_* host functions: marshalling only. Each decodes its path(s) first (a bad
 * one is EFAULT, EINVAL for NUL, EILSEQ for non-UTF-8, ENAMETOOLONG), then passes
 * the gate with the guest path it names (the directory's guest path joined with the
 * argument and normalised, e.g. `/data/notes.txt`), then acts through the core.
 *
 * path_rename and path_link touch two paths and pass the gate once for each, source
 * first, both before anything is done: a policy that may forbid either path must see
 * both, and the gate speaks one path at a time (docs/wasi.md).
 */
import type { HostCallAccess } from '@forgeone/common';
import { ERRNO, LAYOUT, OFLAGS } from './abi.js';
import { CALL, errnoFor, rightsOf, u64, writeFilestat, type HostFunction, type ImportContext } from './marshal.js';
import { guestPathOf } from './path-ops.js';
import { WRITE_MODE_RIGHTS } from './rights.js';

const { SUCCESS, EACCES, ENOTCAPABLE } = ERRNO;

/** The path_* functions of one guest. */
export function pathImports(ctx: ImportContext): Record<string, HostFunction> {
  const { core, memory, gate } = ctx;
  const { table, paths } = core;

  /** The guest string at (ptr, length), or the errno that refuses it. */
  const text = (ptr: number, length: number): string | number => {
    memory.refresh();
    try {
      return memory.string(ptr >>> 0, length >>> 0);
    } catch (error) {
      return errnoFor(error);
    }
  };

  /**
   * Passes the gate for `call` on `path` under `fd`: SUCCESS when allowed, else the
   * errno to return: ENOTCAPABLE when the call exceeds a capability the plugin was
   * given (a write to a read-only volume), EACCES for any other refusal.
   */
  const denied = (call: string, fd: number, path: string | number, access?: HostCallAccess): number => {
    // A request that cannot be carried out (an unreadable, absolute or NUL-holding path,
    // a descriptor that is not an open directory) fails below with its own errno without
    // touching anything: there is nothing for policy to decide, so the gate is not asked.
    if (typeof path !== 'string' || path.startsWith('/') || path.includes('\0') || !table.has(fd) || table.get(fd).kind !== 'directory') return SUCCESS;
    const denial = gate.check(call, guestPathOf(table, fd, path), access);
    return denial === undefined ? SUCCESS : denial.capability === true ? ENOTCAPABLE : EACCES;
  };

  return {
    path_create_directory(fd: number, pathPtr: number, pathLength: number): number {
      const f = fd >>> 0;
      const path = text(pathPtr, pathLength);
      const refused = denied(CALL.path_create_directory, f, path);
      if (refused !== SUCCESS) return refused;
      if (typeof path === 'number') return path;
      try {
        paths.createDirectory(f, path);
        return SUCCESS;
      } catch (error) {
        return errnoFor(error);
      }
    },

    path_filestat_get(fd: number, flags: number, pathPtr: number, pathLength: number, out: number): number {
      const f = fd >>> 0;
      const path = text(pathPtr, pathLength);
      const refused = denied(CALL.path_filestat_get, f, path);
      if (refused !== SUCCESS) return refused;
      if (typeof path === 'number') return path;
      try {
        memory.check(out >>> 0, LAYOUT.FILESTAT_SIZE);
        writeFilestat(memory, out >>> 0, paths.filestat(f, flags >>> 0, path));
        return SUCCESS;
      } catch (error) {
        return errnoFor(error);
      }
    },

    path_filestat_set_times(fd: number, flags: number, pathPtr: number, pathLength: number, atim: bigint, mtim: bigint, fstflags: number): number {
      const f = fd >>> 0;
      const path = text(pathPtr, pathLength);
      const refused = denied(CALL.path_filestat_set_times, f, path);
      if (refused !== SUCCESS) return refused;
      if (typeof path === 'number') return path;
      try {
        paths.setTimes(f, flags >>> 0, path, u64(atim), u64(mtim), fstflags & 0xffff);
        return SUCCESS;
      } catch (error) {
        return errnoFor(error);
      }
    },

    path_link(oldFd: number, oldFlags: number, oldPtr: number, oldLength: number, newFd: number, newPtr: number, newLength: number): number {
      const from = oldFd >>> 0;
      const to = newFd >>> 0;
      const oldPath = text(oldPtr, oldLength);
      const newPath = text(newPtr, newLength);
      const refused = denied(CALL.path_link, from, oldPath) || denied(CALL.path_link, to, newPath);
      if (refused !== SUCCESS) return refused;
      if (typeof oldPath === 'number') return oldPath;
      if (typeof newPath === 'number') return newPath;
      try {
        paths.link(from, oldFlags >>> 0, oldPath, to, newPath);
        return SUCCESS;
      } catch (error) {
        return errnoFor(error);
      }
    },

    path_open(
      fd: number,
      dirflags: number,
      pathPtr: number,
      pathLength: number,
      oflags: number,
      rightsBase: bigint,
      rightsInheriting: bigint,
      fdflags: number,
      out: number,
    ): number {
      const f = fd >>> 0;
      const path = text(pathPtr, pathLength);
      const base = rightsOf(rightsBase);
      const writes = (oflags & (OFLAGS.CREAT | OFLAGS.TRUNC)) !== 0 || (base & WRITE_MODE_RIGHTS) !== 0;
      const refused = denied(CALL.path_open, f, path, writes ? 'write' : 'read');
      if (refused !== SUCCESS) return refused;
      if (typeof path === 'number') return path;
      try {
        memory.check(out >>> 0, 4);
        const opened = paths.open(f, dirflags >>> 0, path, oflags & 0xffff, base, rightsOf(rightsInheriting), fdflags & 0xffff);
        memory.view.setUint32(out >>> 0, opened, true);
        return SUCCESS;
      } catch (error) {
        return errnoFor(error);
      }
    },

    path_readlink(fd: number, pathPtr: number, pathLength: number, buf: number, length: number, used: number): number {
      const f = fd >>> 0;
      const path = text(pathPtr, pathLength);
      const refused = denied(CALL.path_readlink, f, path);
      if (refused !== SUCCESS) return refused;
      if (typeof path === 'number') return path;
      try {
        memory.check(buf >>> 0, length >>> 0);
        memory.check(used >>> 0, 4);
        const contents = paths.readlink(f, path);
        // A short buffer gets the start of the contents, as readlink(2) does.
        const take = Math.min(contents.length, length >>> 0);
        memory.u8.set(contents.subarray(0, take), buf >>> 0);
        memory.view.setUint32(used >>> 0, take, true);
        return SUCCESS;
      } catch (error) {
        return errnoFor(error);
      }
    },

    path_remove_directory(fd: number, pathPtr: number, pathLength: number): number {
      const f = fd >>> 0;
      const path = text(pathPtr, pathLength);
      const refused = denied(CALL.path_remove_directory, f, path);
      if (refused !== SUCCESS) return refused;
      if (typeof path === 'number') return path;
      try {
        paths.removeDirectory(f, path);
        return SUCCESS;
      } catch (error) {
        return errnoFor(error);
      }
    },

    path_rename(fd: number, oldPtr: number, oldLength: number, newFd: number, newPtr: number, newLength: number): number {
      const from = fd >>> 0;
      const to = newFd >>> 0;
      const oldPath = text(oldPtr, oldLength);
      const newPath = text(newPtr, newLength);
      const refused = denied(CALL.path_rename, from, oldPath) || denied(CALL.path_rename, to, newPath);
      if (refused !== SUCCESS) return refused;
      if (typeof oldPath === 'number') return oldPath;
      if (typeof newPath === 'number') return newPath;
      try {
        paths.rename(from, oldPath, to, newPath);
        return SUCCESS;
      } catch (error) {
        return errnoFor(error);
      }
    },

    path_symlink(oldPtr: number, oldLength: number, fd: number, newPtr: number, newLength: number): number {
      const f = fd >>> 0;
      const contents = text(oldPtr, oldLength);
      const path = text(newPtr, newLength);
      // The contents are data, not a place: resolution confines them whenever they are followed.
      const refused = denied(CALL.path_symlink, f, path);
      if (refused !== SUCCESS) return refused;
      if (typeof contents === 'number') return contents;
      if (typeof path === 'number') return path;
      try {
        paths.symlink(contents, f, path);
        return SUCCESS;
      } catch (error) {
        return errnoFor(error);
      }
    },

    path_unlink_file(fd: number, pathPtr: number, pathLength: number): number {
      const f = fd >>> 0;
      const path = text(pathPtr, pathLength);
      const refused = denied(CALL.path_unlink_file, f, path);
      if (refused !== SUCCESS) return refused;
      if (typeof path === 'number') return path;
      try {
        paths.unlink(f, path);
        return SUCCESS;
      } catch (error) {
        return errnoFor(error);
      }
    },
  };
}
