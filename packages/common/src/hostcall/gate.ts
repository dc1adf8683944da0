/**
 * The contract between the places a plugin reaches the host (WASI preview1 calls,
 * `forge.*` host functions) and whatever decides whether it may (the microkernel's
 * trust engine, or a fixed policy in tests and `forge wasi run`).
 *
 * Every host call passes exactly one gate check before it does anything. The check
 * is synchronous (guest code is blocked on it) and must be cheap on the allow path:
 * no allocation is needed to allow a call. Rights that were decided when a handle was
 * opened (an fd's read/write rights) are kept on the handle, so operations on it are
 * checked against those rights and still announced to the gate, but need not be
 * re-decided by policy.
 */

/** Why the gate refused a call; the caller maps it to an errno or a forge/1 error. */
export interface HostCallDenial {
  /** Human-readable reason, recorded in the audit log and shown to the operator. */
  readonly reason: string;
  /**
   * True when the call exceeds a capability the plugin holds (a write to a read-only
   * volume) rather than being forbidden outright; WASI then answers ENOTCAPABLE, not EACCES.
   */
  readonly capability?: boolean;
}

/** Whether a call reads or changes what it touches, when the call name alone does not say (path_open). */
export type HostCallAccess = 'read' | 'write';

/**
 * Decides host calls.
 *
 * @param call the import name, `wasi_snapshot_preview1.path_open` or `forge.kv_get`
 * @param resource what the call touches, in a form policy can match: a guest path for
 *   path calls (`/data/x.txt`), `fd:<n>` for fd calls, a host for network calls,
 *   `kv:<key>` for the key-value store; undefined when the call touches nothing
 *   nameable (clock_time_get, random_get)
 * @param access for calls whose name does not fix it (path_open): whether this use
 *   reads or writes; undefined means the call's own access class
 * @returns undefined to allow, a denial to refuse
 */
export interface HostCallGate {
  check(call: string, resource?: string, access?: HostCallAccess): HostCallDenial | undefined;
}

/** Allows every call. For trusted contexts and tests only. */
export const ALLOW_ALL_GATE: HostCallGate = { check: () => undefined };
