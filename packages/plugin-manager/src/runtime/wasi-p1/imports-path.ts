/**
 * The path_* host functions: marshalling only. Each decodes its path(s) (a bad one is
 * EFAULT, EINVAL for NUL, EILSEQ for non-UTF-8, ENAMETOOLONG) and calls the core,
 * which resolves each path inside its directory and asks policy about the guest path
 * it really reaches (after links) before acting. path_rename and path_link ask once
 * per path, both before anything is done (docs/wasi.md).
 */
import { ERRNO, LAYOUT } from './abi.js';
import { rightsOf, u64, writeFilestat, type HostFunction, type ImportContext } from './marshal.js';
import { decidesItself } from './serve.js';

const { SUCCESS } = ERRNO;

/** The path_* functions of one guest. */
export function pathImports(ctx: ImportContext): Record<string, HostFunction> {
  const { core, memory } = ctx;
  const paths = core.paths;

  /** The guest string at (ptr, length). @throws EFAULT, ENAMETOOLONG, EINVAL, EILSEQ */
  const text = (ptr: number, length: number): string => {
    memory.refresh();
    return memory.string(ptr >>> 0, length >>> 0);
  };

  return {
    path_create_directory: decidesItself(ctx, 'path_create_directory', (fd: number, pathPtr: number, pathLength: number) => {
      paths.createDirectory(fd >>> 0, text(pathPtr, pathLength));
      return SUCCESS;
    }),

    path_filestat_get: decidesItself(ctx, 'path_filestat_get', (fd: number, flags: number, pathPtr: number, pathLength: number, out: number) => {
      const path = text(pathPtr, pathLength);
      memory.check(out >>> 0, LAYOUT.FILESTAT_SIZE);
      writeFilestat(memory, out >>> 0, paths.filestat(fd >>> 0, flags >>> 0, path));
      return SUCCESS;
    }),

    path_filestat_set_times: decidesItself(
      ctx,
      'path_filestat_set_times',
      (fd: number, flags: number, pathPtr: number, pathLength: number, atim: bigint, mtim: bigint, fstflags: number) => {
        paths.setTimes(fd >>> 0, flags >>> 0, text(pathPtr, pathLength), u64(atim), u64(mtim), fstflags & 0xffff);
        return SUCCESS;
      },
    ),

    path_link: decidesItself(ctx, 'path_link', (oldFd: number, oldFlags: number, oldPtr: number, oldLength: number, newFd: number, newPtr: number, newLength: number) => {
      const oldPath = text(oldPtr, oldLength);
      const newPath = text(newPtr, newLength);
      paths.link(oldFd >>> 0, oldFlags >>> 0, oldPath, newFd >>> 0, newPath);
      return SUCCESS;
    }),

    path_open: decidesItself(
      ctx,
      'path_open',
      (fd: number, dirflags: number, pathPtr: number, pathLength: number, oflags: number, rightsBase: bigint, rightsInheriting: bigint, fdflags: number, out: number) => {
        const path = text(pathPtr, pathLength);
        memory.check(out >>> 0, 4);
        const opened = paths.open(fd >>> 0, dirflags >>> 0, path, oflags & 0xffff, rightsOf(rightsBase), rightsOf(rightsInheriting), fdflags & 0xffff);
        memory.view.setUint32(out >>> 0, opened, true);
        return SUCCESS;
      },
    ),

    path_readlink: decidesItself(ctx, 'path_readlink', (fd: number, pathPtr: number, pathLength: number, buf: number, length: number, used: number) => {
      const path = text(pathPtr, pathLength);
      memory.check(buf >>> 0, length >>> 0);
      memory.check(used >>> 0, 4);
      const contents = paths.readlink(fd >>> 0, path);
      // A short buffer gets the start of the contents, as readlink(2) does.
      const take = Math.min(contents.length, length >>> 0);
      memory.u8.set(contents.subarray(0, take), buf >>> 0);
      memory.view.setUint32(used >>> 0, take, true);
      return SUCCESS;
    }),

    path_remove_directory: decidesItself(ctx, 'path_remove_directory', (fd: number, pathPtr: number, pathLength: number) => {
      paths.removeDirectory(fd >>> 0, text(pathPtr, pathLength));
      return SUCCESS;
    }),

    path_rename: decidesItself(ctx, 'path_rename', (fd: number, oldPtr: number, oldLength: number, newFd: number, newPtr: number, newLength: number) => {
      const oldPath = text(oldPtr, oldLength);
      const newPath = text(newPtr, newLength);
      paths.rename(fd >>> 0, oldPath, newFd >>> 0, newPath);
      return SUCCESS;
    }),

    path_symlink: decidesItself(ctx, 'path_symlink', (oldPtr: number, oldLength: number, fd: number, newPtr: number, newLength: number) => {
      // The contents are data, not a place: resolution confines them whenever they are followed.
      const contents = text(oldPtr, oldLength);
      paths.symlink(contents, fd >>> 0, text(newPtr, newLength));
      return SUCCESS;
    }),

    path_unlink_file: decidesItself(ctx, 'path_unlink_file', (fd: number, pathPtr: number, pathLength: number) => {
      paths.unlink(fd >>> 0, text(pathPtr, pathLength));
      return SUCCESS;
    }),
  };
}
