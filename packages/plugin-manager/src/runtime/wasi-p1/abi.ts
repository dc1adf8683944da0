/**
 * The numbers of WASI preview1 (`wasi_snapshot_preview1`), as the witx files in
 * WebAssembly/WASI `legacy/preview1/witx` define them: errno values, rights bits,
 * flags, enums and struct layouts. Nothing here does anything; the core and the
 * marshalling adapter speak these names so neither carries a magic number.
 */

/** The import module name every preview1 function lives in. */
export const WASI_MODULE = 'wasi_snapshot_preview1';

/** The 46 preview1 functions, in witx order. */
export const WASI_P1_FUNCTIONS = [
  'args_get',
  'args_sizes_get',
  'environ_get',
  'environ_sizes_get',
  'clock_res_get',
  'clock_time_get',
  'fd_advise',
  'fd_allocate',
  'fd_close',
  'fd_datasync',
  'fd_fdstat_get',
  'fd_fdstat_set_flags',
  'fd_fdstat_set_rights',
  'fd_filestat_get',
  'fd_filestat_set_size',
  'fd_filestat_set_times',
  'fd_pread',
  'fd_prestat_get',
  'fd_prestat_dir_name',
  'fd_pwrite',
  'fd_read',
  'fd_readdir',
  'fd_renumber',
  'fd_seek',
  'fd_sync',
  'fd_tell',
  'fd_write',
  'path_create_directory',
  'path_filestat_get',
  'path_filestat_set_times',
  'path_link',
  'path_open',
  'path_readlink',
  'path_remove_directory',
  'path_rename',
  'path_symlink',
  'path_unlink_file',
  'poll_oneoff',
  'proc_exit',
  'proc_raise',
  'sched_yield',
  'random_get',
  'sock_accept',
  'sock_recv',
  'sock_send',
  'sock_shutdown',
] as const;

/** The name of one preview1 function. */
export type WasiFunctionName = (typeof WASI_P1_FUNCTIONS)[number];

/** `wasi_snapshot_preview1.<name>` for every function, made once so the gate's allow path allocates nothing. */
export const CALL: Readonly<Record<WasiFunctionName, string>> = Object.fromEntries(WASI_P1_FUNCTIONS.map((name) => [name, `${WASI_MODULE}.${name}`])) as Record<
  WasiFunctionName,
  string
>;

/** `errno`: the value every preview1 function returns (0 is success). POSIX names. */
export const ERRNO = {
  SUCCESS: 0,
  E2BIG: 1,
  EACCES: 2,
  EADDRINUSE: 3,
  EADDRNOTAVAIL: 4,
  EAFNOSUPPORT: 5,
  EAGAIN: 6,
  EALREADY: 7,
  EBADF: 8,
  EBADMSG: 9,
  EBUSY: 10,
  ECANCELED: 11,
  ECHILD: 12,
  ECONNABORTED: 13,
  ECONNREFUSED: 14,
  ECONNRESET: 15,
  EDEADLK: 16,
  EDESTADDRREQ: 17,
  EDOM: 18,
  EDQUOT: 19,
  EEXIST: 20,
  EFAULT: 21,
  EFBIG: 22,
  EHOSTUNREACH: 23,
  EIDRM: 24,
  EILSEQ: 25,
  EINPROGRESS: 26,
  EINTR: 27,
  EINVAL: 28,
  EIO: 29,
  EISCONN: 30,
  EISDIR: 31,
  ELOOP: 32,
  EMFILE: 33,
  EMLINK: 34,
  EMSGSIZE: 35,
  EMULTIHOP: 36,
  ENAMETOOLONG: 37,
  ENETDOWN: 38,
  ENETRESET: 39,
  ENETUNREACH: 40,
  ENFILE: 41,
  ENOBUFS: 42,
  ENODEV: 43,
  ENOENT: 44,
  ENOEXEC: 45,
  ENOLCK: 46,
  ENOLINK: 47,
  ENOMEM: 48,
  ENOMSG: 49,
  ENOPROTOOPT: 50,
  ENOSPC: 51,
  ENOSYS: 52,
  ENOTCONN: 53,
  ENOTDIR: 54,
  ENOTEMPTY: 55,
  ENOTRECOVERABLE: 56,
  ENOTSOCK: 57,
  ENOTSUP: 58,
  ENOTTY: 59,
  ENXIO: 60,
  EOVERFLOW: 61,
  EOWNERDEAD: 62,
  EPERM: 63,
  EPIPE: 64,
  EPROTO: 65,
  EPROTONOSUPPORT: 66,
  EPROTOTYPE: 67,
  ERANGE: 68,
  EROFS: 69,
  ESPIPE: 70,
  ESRCH: 71,
  ESTALE: 72,
  ETIMEDOUT: 73,
  ETXTBSY: 74,
  EXDEV: 75,
  ENOTCAPABLE: 76,
} as const;

/** The POSIX-style name of an errno value (`EBADF`), for messages and docs. */
export function errnoName(errno: number): string {
  for (const [name, value] of Object.entries(ERRNO)) if (value === errno) return name;
  return `errno ${errno}`;
}

/**
 * `rights`: what a file descriptor may be used for. There are 30 rights, so a set of
 * them fits in a JS number (bits 0..29) and bitwise operators work on it directly.
 */
export const RIGHTS = {
  FD_DATASYNC: 1 << 0,
  FD_READ: 1 << 1,
  FD_SEEK: 1 << 2,
  FD_FDSTAT_SET_FLAGS: 1 << 3,
  FD_SYNC: 1 << 4,
  FD_TELL: 1 << 5,
  FD_WRITE: 1 << 6,
  FD_ADVISE: 1 << 7,
  FD_ALLOCATE: 1 << 8,
  PATH_CREATE_DIRECTORY: 1 << 9,
  PATH_CREATE_FILE: 1 << 10,
  PATH_LINK_SOURCE: 1 << 11,
  PATH_LINK_TARGET: 1 << 12,
  PATH_OPEN: 1 << 13,
  FD_READDIR: 1 << 14,
  PATH_READLINK: 1 << 15,
  PATH_RENAME_SOURCE: 1 << 16,
  PATH_RENAME_TARGET: 1 << 17,
  PATH_FILESTAT_GET: 1 << 18,
  PATH_FILESTAT_SET_SIZE: 1 << 19,
  PATH_FILESTAT_SET_TIMES: 1 << 20,
  FD_FILESTAT_GET: 1 << 21,
  FD_FILESTAT_SET_SIZE: 1 << 22,
  FD_FILESTAT_SET_TIMES: 1 << 23,
  PATH_SYMLINK: 1 << 24,
  PATH_REMOVE_DIRECTORY: 1 << 25,
  PATH_UNLINK_FILE: 1 << 26,
  POLL_FD_READWRITE: 1 << 27,
  SOCK_SHUTDOWN: 1 << 28,
  SOCK_ACCEPT: 1 << 29,
} as const;

/** Every right preview1 defines. */
export const ALL_RIGHTS = (1 << 30) - 1;

/** The names of the rights in `bits`, lower case as in witx (`fd_write, path_open`), for refusal reasons. */
export function rightNames(bits: number): string {
  return Object.entries(RIGHTS)
    .filter(([, bit]) => (bits & bit) !== 0)
    .map(([name]) => name.toLowerCase())
    .join(', ');
}

/** `filetype`. */
export const FILETYPE = {
  UNKNOWN: 0,
  BLOCK_DEVICE: 1,
  CHARACTER_DEVICE: 2,
  DIRECTORY: 3,
  REGULAR_FILE: 4,
  SOCKET_DGRAM: 5,
  SOCKET_STREAM: 6,
  SYMBOLIC_LINK: 7,
} as const;

/** `fdflags` (u16). */
export const FDFLAGS = { APPEND: 1, DSYNC: 2, NONBLOCK: 4, RSYNC: 8, SYNC: 16 } as const;
/** Every fdflag preview1 defines. */
export const ALL_FDFLAGS = 31;

/** `oflags` (u16) of path_open. */
export const OFLAGS = { CREAT: 1, DIRECTORY: 2, EXCL: 4, TRUNC: 8 } as const;
/** Every oflag preview1 defines. */
export const ALL_OFLAGS = 15;

/** `lookupflags` (u32). */
export const LOOKUPFLAGS = { SYMLINK_FOLLOW: 1 } as const;

/** `fstflags` (u16) of the set_times calls. */
export const FSTFLAGS = { ATIM: 1, ATIM_NOW: 2, MTIM: 4, MTIM_NOW: 8 } as const;

/** `whence` (u8) of fd_seek. */
export const WHENCE = { SET: 0, CUR: 1, END: 2 } as const;

/** `clockid` (u32). */
export const CLOCKID = { REALTIME: 0, MONOTONIC: 1, PROCESS_CPUTIME_ID: 2, THREAD_CPUTIME_ID: 3 } as const;

/** `eventtype` (u8) of poll_oneoff. */
export const EVENTTYPE = { CLOCK: 0, FD_READ: 1, FD_WRITE: 2 } as const;

/** `subclockflags` (u16): the timeout is an absolute time of the clock. */
export const SUBCLOCKFLAGS_ABSTIME = 1;

/** `eventrwflags` (u16): the peer hung up (end of input). */
export const EVENTRWFLAGS_HANGUP = 1;

/** `advice` values are 0..5 (normal .. noreuse). */
export const ADVICE_MAX = 5;

/** `preopentype`: the only kind preview1 defines. */
export const PREOPENTYPE_DIR = 0;

/** `sdflags` of sock_shutdown: RD | WR. */
export const ALL_SDFLAGS = 3;

/** `signal` values are 0..30. */
export const SIGNAL_MAX = 30;

/**
 * Most iovecs one read or write may pass (POSIX IOV_MAX, also wasi-libc's); more is
 * EINVAL, as readv(2) says. It bounds the work one host call does for the guest.
 */
export const MAX_IOVECS = 1024;

/** Most subscriptions one poll_oneoff may pass; more is EINVAL. */
export const MAX_SUBSCRIPTIONS = 65_536;

/** Struct sizes and field offsets in guest memory (little-endian, wasm32). */
export const LAYOUT = {
  /** `iovec` / `ciovec`: buf u32 @0, buf_len u32 @4. */
  IOVEC_SIZE: 8,
  /** `fdstat`: fs_filetype u8 @0, fs_flags u16 @2, rights_base u64 @8, rights_inheriting u64 @16. */
  FDSTAT_SIZE: 24,
  /** `filestat`: dev @0, ino @8, filetype u8 @16, nlink @24, size @32, atim @40, mtim @48, ctim @56. */
  FILESTAT_SIZE: 64,
  /** `prestat`: tag u8 @0, dir.pr_name_len u32 @4. */
  PRESTAT_SIZE: 8,
  /** `dirent`: d_next u64 @0, d_ino u64 @8, d_namlen u32 @16, d_type u8 @20; the name follows. */
  DIRENT_SIZE: 24,
  /** `subscription`: userdata u64 @0, tag u8 @8, union @16 (clock: id u32 @16, timeout u64 @24, precision u64 @32, flags u16 @40; fd: u32 @16). */
  SUBSCRIPTION_SIZE: 48,
  /** `event`: userdata u64 @0, error u16 @8, type u8 @10, nbytes u64 @16, flags u16 @24. */
  EVENT_SIZE: 32,
} as const;
