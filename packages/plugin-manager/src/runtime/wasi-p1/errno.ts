/**
 * How the core reports a refused or failed operation: it throws a {@link WasiErrno}
 * carrying the preview1 errno, and the marshalling adapter returns that number to the
 * guest. Host file-system failures (Node's `ENOENT`, `EACCES`, ...) map to the errno
 * of the same name. One instance per errno is made once and rethrown, so a refusal
 * on a hot path allocates nothing.
 */
import { constants } from 'node:os';
import { isNodeSystemError } from '@forgeone/common';
import { ERRNO } from './abi.js';

/** A preview1 errno raised inside the WASI core; never escapes to callers of the library. */
export class WasiErrno extends Error {
  constructor(readonly errno: number) {
    super(`WASI errno ${errno}`);
    this.name = 'WasiErrno';
  }
}

/**
 * A refusal the host makes on its own rules rather than policy's or the OS's: a path
 * that leaves its directory, a right the descriptor lacks, a full descriptor table.
 * The adapter reports each one to the gate (`HostCallGate.refuse`), so it is audited
 * with what the guest asked for. Made per refusal: refusals are not a hot path.
 */
export class WasiRefusal extends WasiErrno {
  /**
   * @param reason what was refused, for the audit log (`the path leaves /data`)
   * @param resource the guest path (or `fd:<n>`) the refused operation would have touched, as far as known
   * @param requested what the guest literally passed (a raw path)
   */
  constructor(
    errno: number,
    readonly reason: string,
    readonly resource: string | undefined,
    readonly requested: string | undefined,
  ) {
    super(errno);
    this.name = 'WasiRefusal';
  }
}

/** Throws a {@link WasiRefusal}. */
export function refuse(code: number, reason: string, resource?: string, requested?: string): never {
  throw new WasiRefusal(code, reason, resource, requested);
}

const KNOWN: ReadonlySet<number> = new Set(Object.values(ERRNO));
/** One error per errno, made on its first throw (not at load: an idle sandbox holds none, nor their stacks). */
const SHARED: WasiErrno[] = [];

/** Throws the errno `code`. */
export function fail(code: number): never {
  const shared = SHARED[code];
  if (shared !== undefined) throw shared;
  const made = new WasiErrno(code);
  if (KNOWN.has(code)) SHARED[code] = made;
  throw made;
}

/** Node error codes whose WASI name differs from the POSIX one. */
const ALIASES: Readonly<Record<string, number>> = {
  EOPNOTSUPP: ERRNO.ENOTSUP,
  EWOULDBLOCK: ERRNO.EAGAIN,
  ERR_FS_FILE_TOO_LARGE: ERRNO.EFBIG,
  ERR_OUT_OF_RANGE: ERRNO.EINVAL,
};

const BY_NODE_CODE: ReadonlyMap<string, number> = new Map([
  ...Object.entries(ERRNO).filter(([name]) => name !== 'SUCCESS' && name !== 'ENOTCAPABLE'),
  ...Object.entries(ALIASES),
]);

/**
 * The errno for something thrown while serving a call: a {@link WasiErrno} gives its
 * own, a Node system error the errno of the same name (EIO when preview1 has none).
 *
 * @returns undefined when `error` is neither (a bug or a deliberate unwind), which
 *   the caller must rethrow rather than hide behind an errno
 */
export function errnoOf(error: unknown): number | undefined {
  if (error instanceof WasiErrno) return error.errno;
  if (isNodeSystemError(error)) {
    const mapped = BY_NODE_CODE.get(error.code);
    if (mapped !== undefined) return mapped;
    if (error.code.startsWith('E') && typeof (error as { errno?: unknown }).errno === 'number') return ERRNO.EIO;
  }
  return undefined;
}

/** preview1 errno by host errno number, made on the first host failure (failHost). */
let byHostNumber: number[] | undefined;

/**
 * Throws the preview1 errno for host errno number `hostErrno` (what a native call
 * returned negated): the errno of the same name, as {@link errnoOf} maps a Node
 * system error, EIO when preview1 has none.
 */
export function failHost(hostErrno: number): never {
  if (byHostNumber === undefined) {
    byHostNumber = [];
    for (const [name, value] of Object.entries(constants.errno)) {
      const mapped = BY_NODE_CODE.get(name);
      if (mapped !== undefined) byHostNumber[value] ??= mapped;
    }
  }
  fail(byHostNumber[hostErrno] ?? ERRNO.EIO);
}
