/**
 * The contract between the places a plugin reaches the host (WASI preview1 calls,
 * `forge.*` host functions) and whatever decides whether it may (the microkernel's
 * trust engine, or a fixed policy in tests).
 *
 * Every host call passes exactly one gate check per resource it touches before it does
 * anything. The check is synchronous (guest code is blocked on it) and must be cheap
 * on the allow path: no allocation is needed to allow a call. Rights that were decided
 * when a handle was opened (an fd's read/write rights) are kept on the handle, so
 * operations on it are checked against those rights and still announced to the gate,
 * but need not be re-decided by policy.
 *
 * Some refusals are not policy's to make: a path that climbs out of its directory, a
 * right the handle lacks, a private address behind an allowed host name, a full
 * descriptor table. The code that refuses them reports each one with
 * {@link HostCallGate.refuse}, so the audit trail holds every refused operation with
 * what the plugin really asked for, whoever refused it.
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
 * Decides host calls and records refusals.
 */
export interface HostCallGate {
  /**
   * Decides one call.
   *
   * @param call the import name, `wasi_snapshot_preview1.path_open` or `forge.kv_get`
   * @param resource what the call really touches, in a form policy can match: for path
   *   calls the guest path of the object reached after following links (`/data/x.txt`),
   *   the file's guest path or `fd:<n>` for fd calls, a host for network calls,
   *   `kv:<key>` for the key-value store; undefined when the call touches nothing
   *   nameable (clock_time_get, random_get)
   * @param access for calls whose name does not fix it (path_open): whether this use
   *   reads or writes; undefined means the call's own access class
   * @param requested what the plugin literally asked for when it differs from
   *   `resource` (the raw path before links were followed); audited beside it
   * @returns undefined to allow, a denial to refuse
   */
  check(call: string, resource?: string, access?: HostCallAccess, requested?: string): HostCallDenial | undefined;

  /**
   * Records a refusal made outside policy (see the module comment): audited as a denial
   * at every audit level and counted by anomaly detection like a policy denial. The
   * call is refused whatever this does; it never throws.
   *
   * @param call the import name
   * @param resource what the refused operation would have touched, as far as known
   * @param reason what was refused and why, e.g. `ENOTCAPABLE: the path leaves its directory`
   * @param requested what the plugin literally asked for (a raw path, a URL)
   */
  refuse(call: string, resource: string | undefined, reason: string, requested?: string): void;
}

/** Allows every call and records nothing. For trusted contexts and tests only. */
export const ALLOW_ALL_GATE: HostCallGate = { check: () => undefined, refuse: () => undefined };
