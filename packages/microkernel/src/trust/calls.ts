/**
 * The catalog of host calls a plugin can make, and what each needs from the plugin's
 * signed permissions. Policy, the import check and the audit log all speak these
 * names: `wasi_snapshot_preview1.<fn>` for WASI preview1 and `forge.<fn>` for ours.
 *
 * A call's **requirement** says which manifest permission makes it available at all:
 *
 * - `none`: every plugin may import and call it (clocks, random, its own args and env,
 *   operations on file descriptors it already holds: those exist only if a preopen
 *   was granted, and carry the rights fixed when they were opened).
 * - `fs-read` / `fs-write`: `permissions.filesystem` must include read / write, and
 *   the path must lie inside a declared volume (rw for writes).
 * - `network`: `permissions.network` must include connect; a host resource must match
 *   `permissions.allowed_hosts`. (WASI preview1's sock_* calls need nothing: they act
 *   only on socket descriptors, and no plugin is ever given one, so they can only fail.)
 * - `explicit`: the call must be listed in `permissions.syscalls` (or `forge.*`).
 */

/** What a call touches. */
export type ResourceKind = 'none' | 'fd' | 'path' | 'host' | 'key' | 'plugin' | 'event';

/** Which permission makes a call available. */
export type Requirement = 'none' | 'fs-read' | 'fs-write' | 'network' | 'explicit';

/** One catalog entry. */
export interface CallSpec {
  readonly name: string;
  readonly resource: ResourceKind;
  readonly requires: Requirement;
}

const WASI = 'wasi_snapshot_preview1';

/** The 46 WASI preview1 functions, with their resource kind and requirement. */
const WASI_CALLS: readonly (readonly [string, ResourceKind, Requirement])[] = [
  ['args_get', 'none', 'none'],
  ['args_sizes_get', 'none', 'none'],
  ['environ_get', 'none', 'none'],
  ['environ_sizes_get', 'none', 'none'],
  ['clock_res_get', 'none', 'none'],
  ['clock_time_get', 'none', 'none'],
  ['fd_advise', 'fd', 'none'],
  ['fd_allocate', 'fd', 'none'],
  ['fd_close', 'fd', 'none'],
  ['fd_datasync', 'fd', 'none'],
  ['fd_fdstat_get', 'fd', 'none'],
  ['fd_fdstat_set_flags', 'fd', 'none'],
  ['fd_fdstat_set_rights', 'fd', 'none'],
  ['fd_filestat_get', 'fd', 'none'],
  ['fd_filestat_set_size', 'fd', 'none'],
  ['fd_filestat_set_times', 'path', 'fs-write'],
  ['fd_pread', 'fd', 'none'],
  ['fd_prestat_get', 'fd', 'none'],
  ['fd_prestat_dir_name', 'fd', 'none'],
  ['fd_pwrite', 'fd', 'none'],
  ['fd_read', 'fd', 'none'],
  ['fd_readdir', 'fd', 'none'],
  ['fd_renumber', 'fd', 'none'],
  ['fd_seek', 'fd', 'none'],
  ['fd_sync', 'fd', 'none'],
  ['fd_tell', 'fd', 'none'],
  ['fd_write', 'fd', 'none'],
  ['path_create_directory', 'path', 'fs-write'],
  ['path_filestat_get', 'path', 'fs-read'],
  ['path_filestat_set_times', 'path', 'fs-write'],
  ['path_link', 'path', 'fs-write'],
  ['path_open', 'path', 'fs-read'],
  ['path_readlink', 'path', 'fs-read'],
  ['path_remove_directory', 'path', 'fs-write'],
  ['path_rename', 'path', 'fs-write'],
  ['path_symlink', 'path', 'fs-write'],
  ['path_unlink_file', 'path', 'fs-write'],
  ['poll_oneoff', 'none', 'none'],
  ['proc_exit', 'none', 'none'],
  ['proc_raise', 'none', 'none'],
  ['sched_yield', 'none', 'none'],
  ['random_get', 'none', 'none'],
  ['sock_accept', 'fd', 'none'],
  ['sock_recv', 'fd', 'none'],
  ['sock_send', 'fd', 'none'],
  ['sock_shutdown', 'fd', 'none'],
];

/** ForgeOne's own host calls (docs/reference/abi.md). */
const FORGE_CALLS: readonly (readonly [string, ResourceKind, Requirement])[] = [
  ['log', 'none', 'none'],
  ['time_now', 'none', 'none'],
  ['random_get', 'none', 'none'],
  ['config_get', 'key', 'none'],
  ['kv_get', 'key', 'explicit'],
  ['kv_set', 'key', 'explicit'],
  ['kv_delete', 'key', 'explicit'],
  ['kv_list', 'key', 'explicit'],
  ['http_request', 'host', 'network'],
  ['file_read', 'path', 'fs-read'],
  ['file_write', 'path', 'fs-write'],
  ['emit_event', 'event', 'explicit'],
  ['register_extension', 'none', 'none'],
  ['call_plugin', 'plugin', 'explicit'],
];

function build(): Map<string, CallSpec> {
  const map = new Map<string, CallSpec>();
  for (const [fn, resource, requires] of WASI_CALLS) map.set(`${WASI}.${fn}`, { name: `${WASI}.${fn}`, resource, requires });
  for (const [fn, resource, requires] of FORGE_CALLS) map.set(`forge.${fn}`, { name: `forge.${fn}`, resource, requires });
  return map;
}

/**
 * A catalog of host calls: the built-in WASI and forge calls plus those a host
 * application registers. Policy refuses any call not in it.
 */
export class CallCatalog {
  readonly #calls = build();

  /** The spec of `name`, or undefined for an unknown call. */
  get(name: string): CallSpec | undefined {
    return this.#calls.get(name);
  }

  /** Every call name, sorted. */
  names(): string[] {
    return [...this.#calls.keys()].sort();
  }

  /**
   * Adds a host application's own call (a `forge.<name>` host function).
   * @returns false when the name is already taken (the caller reports the conflict)
   */
  register(spec: CallSpec): boolean {
    if (this.#calls.has(spec.name)) return false;
    this.#calls.set(spec.name, spec);
    return true;
  }

  /** Removes a host application's call; built-in calls cannot be removed. */
  unregister(name: string): void {
    if (BUILT_IN.has(name)) return;
    this.#calls.delete(name);
  }
}

const BUILT_IN = new Set(build().keys());

/** The number of WASI preview1 functions in the catalog (46). */
export const WASI_CALL_COUNT = WASI_CALLS.length;

/** The import module name of WASI preview1. */
export const WASI_MODULE = WASI;
