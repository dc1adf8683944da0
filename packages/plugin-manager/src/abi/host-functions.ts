/**
 * Host functions: the `forge` import module a plugin calls into.
 *
 * Every function has the forge/1 shape `(ptr: i32, len: i32) -> i64`: the guest passes
 * a request it keeps owning; the host copies it out once, asks the gate, runs the
 * handler, allocates the result in guest memory through the guest's forge_alloc, copies
 * it in once and returns the packed pointer and length (see packed.ts). A refusal or a
 * handler error goes back to the guest as an error payload; nothing the guest sends can
 * make the host throw, except breaking its own memory or allocator (which poisons it).
 */
import { ForgeError, silentLogger, type HostCallAccess, type HostCallGate, type Logger } from '@forgeone/common';
import { encodeErrorPayload } from './error-payload.js';
import type { GuestHeap } from './guest-memory.js';
import { checkByteLimit } from './limits.js';
import { ERROR_FLAG, MAX_REGION_BYTES, packResult } from './packed.js';

/** The import module name host functions live in. */
export const HOST_MODULE = 'forge';

/** Host function names: 1-64 of `a-z 0-9 _`, the grammar manifests use for `forge.<name>` syscalls. */
export const HOST_FUNCTION_NAME = /^[a-z0-9_]{1,64}$/;

/** Largest request a host function accepts when its definition names no limit: 1 MiB. */
export const DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024;

/** What a handler knows about the call it serves. */
export interface HostCallContext {
  /** The full call name, `forge.<name>`, as the gate saw it. */
  readonly call: string;
  /** The logger the binding was given (usually a child carrying the plugin's identity). */
  readonly logger: Logger;
  /**
   * Asks policy about what the request really reaches when the handler learns it only
   * while serving (the file a path leads to after links), as the gate asked about the
   * resource named in the request. Returns when allowed.
   * @param requested what the request named, when it differs from `resource`
   * @throws ForgeError FO_ABI_HOST_DENIED when refused (the gate audited the denial)
   */
  decide(resource: string, access?: HostCallAccess, requested?: string): void;
}

/**
 * Serves one host call. Synchronous: the guest is blocked on it.
 *
 * @param request the guest's request, a copy the handler may keep
 * @returns the result bytes (possibly empty), copied into guest memory by the caller
 * @throws ForgeError to refuse: its code and message go to the guest in an error
 *   payload, so the message must not hold anything the plugin may not see. A refusal
 *   of kind `denied` or `limit` is also reported to the gate (`HostCallGate.refuse`),
 *   so it is audited: `denied` every time, `limit` once per run of refusals of the same
 *   function (a guest looping on a rate limit must not flood the audit log). Anything
 *   else thrown is logged and reported to the guest as FO_INTERNAL_UNEXPECTED.
 */
export type HostFunctionHandler = (request: Uint8Array, context: HostCallContext) => Uint8Array;

/** One host function, `forge.<name>`. */
export interface HostFunctionDefinition {
  /** The import name inside the `forge` module; see {@link HOST_FUNCTION_NAME}. */
  readonly name: string;
  readonly handler: HostFunctionHandler;
  /**
   * Largest request accepted, in bytes (default {@link DEFAULT_MAX_REQUEST_BYTES}); a
   * bigger one is refused with FO_ABI_INPUT_TOO_LARGE before anything is copied.
   */
  readonly maxRequestBytes?: number;
  /**
   * Names what a request touches, for the gate (`kv:<key>`, a path, a host). Omitted
   * when the call touches nothing nameable: then the gate is asked before the request
   * is even read. With it, the request is copied first and a request that cannot be
   * read (FO_ABI_BAD_POINTER, FO_ABI_INPUT_TOO_LARGE) is refused before policy, since
   * there is nothing to decide about. Throw a ForgeError to refuse a malformed request.
   */
  readonly resource?: (request: Uint8Array) => string | undefined;
}

/** The signature every host import has, seen from JavaScript. */
export type HostImport = (ptr: unknown, length: unknown) => bigint;

/** Options for {@link HostFunctionRegistry.bind}. */
export interface HostBindingOptions {
  /** Decides every call, once, before its handler runs. No default: the caller chooses the policy. */
  readonly gate: HostCallGate;
  /** Where handlers log and where the host reports handler bugs (default: silent). */
  readonly logger?: Logger;
  /**
   * Bind only these names (those the instance's module imports); the others are left
   * out of {@link HostBinding.imports}. Default: every defined function. Each bound
   * function costs a few closures per instance, so a host hosting thousands of
   * instances binds only what each links.
   */
  readonly only?: ReadonlySet<string>;
}

/** The host functions of one instance: its `forge` import module, and the hook that wires it to the instance. */
export interface HostBinding {
  /** The `forge` import module: one function per defined name (or per name in {@link HostBindingOptions.only}). */
  readonly imports: Readonly<Record<string, HostImport>>;
  /**
   * Connects the functions to the instance's memory and allocator. AbiInstance calls it
   * once, after checking the exports; a call before it (from the module's start
   * function) is refused with FO_ABI_HOST_CALL_IN_START.
   */
  attach(guest: GuestHeap): void;
}

interface Resolved {
  readonly name: string;
  readonly call: string;
  readonly handler: HostFunctionHandler;
  readonly maxRequestBytes: number;
  readonly resource: ((request: Uint8Array) => string | undefined) | undefined;
}

/**
 * The host functions the host offers, by name. Define them once; {@link bind} then
 * builds the `forge` import module for each instance, bound to that instance's gate.
 */
export class HostFunctionRegistry {
  readonly #functions = new Map<string, Resolved>();

  /**
   * Adds `forge.<definition.name>`.
   *
   * @throws ForgeError FO_ABI_HOST_FUNCTION_DEFINITION when the name is malformed or
   *   already defined, the handler is not a function or the request limit is not an
   *   integer from 0 to 2^30 - 1
   */
  define(definition: HostFunctionDefinition): this {
    const { name } = definition;
    const problem = !HOST_FUNCTION_NAME.test(name)
      ? `expected a name of 1-64 of a-z 0-9 _, found ${JSON.stringify(name)}`
      : this.#functions.has(name)
        ? `forge.${name} is already defined`
        : typeof definition.handler !== 'function'
          ? `forge.${name} has no handler function`
          : undefined;
    if (problem !== undefined) {
      throw new ForgeError('FO_ABI_HOST_FUNCTION_DEFINITION', `host function definition: ${problem}`, { details: { name } });
    }
    const maxRequestBytes = definition.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
    try {
      checkByteLimit(`forge.${name} maxRequestBytes`, maxRequestBytes);
    } catch (error) {
      throw new ForgeError('FO_ABI_HOST_FUNCTION_DEFINITION', `host function definition: ${(error as Error).message}`, { details: { name } });
    }
    this.#functions.set(name, {
      name,
      call: `${HOST_MODULE}.${name}`,
      handler: definition.handler,
      maxRequestBytes,
      resource: definition.resource,
    });
    return this;
  }

  /** True when `forge.<name>` is defined. */
  has(name: string): boolean {
    return this.#functions.has(name);
  }

  /** The defined names (without the `forge.` prefix), sorted. */
  names(): string[] {
    return [...this.#functions.keys()].sort();
  }

  /**
   * Builds the `forge` import module for one instance. The functions refuse to run
   * until {@link HostBinding.attach} connects them to the instance.
   *
   * @throws ForgeError FO_INTERNAL_UNEXPECTED when `options.gate` has no check method
   */
  bind(options: HostBindingOptions): HostBinding {
    const gate = options.gate;
    // SECURITY: no gate would mean no policy; refuse here rather than fail open later.
    if (typeof (gate as Partial<HostCallGate> | undefined)?.check !== 'function') {
      throw new ForgeError('FO_INTERNAL_UNEXPECTED', 'host functions need a gate: expected an object with a check method, found none');
    }
    const logger = options.logger ?? silentLogger;
    let guest: GuestHeap | undefined;
    const imports: Record<string, HostImport> = Object.create(null) as Record<string, HostImport>;
    const target = (): GuestHeap | undefined => guest;
    const only = options.only;
    for (const fn of this.#functions.values()) {
      if (only === undefined || only.has(fn.name)) imports[fn.name] = hostImport(fn, gate, logger, target);
    }
    return {
      imports: Object.freeze(imports),
      attach(target: GuestHeap): void {
        if (guest !== undefined && guest !== target) {
          throw new ForgeError('FO_INTERNAL_UNEXPECTED', 'a host binding serves one instance; it is already attached to another');
        }
        guest = target;
      },
    };
  }
}

const EMPTY = new Uint8Array(0);

/** The JavaScript function the guest imports as `forge.<name>`. */
function hostImport(fn: Resolved, gate: HostCallGate, logger: Logger, target: () => GuestHeap | undefined): HostImport {
  /** Turns a denial into FO_ABI_HOST_DENIED for the guest. */
  const refused = (resource: string | undefined, reason: string): ForgeError => {
    logger.debug('host call denied', { call: fn.call, resource, reason });
    // SECURITY: the guest learns that policy refused, not why: reasons name policy
    // internals. The operator sees the reason through the gate's audit and the log.
    return new ForgeError('FO_ABI_HOST_DENIED', `host policy denied ${fn.call}`, { details: { call: fn.call, audited: true } });
  };

  /** Asks the gate; a denial becomes FO_ABI_HOST_DENIED. */
  const ask = (resource: string | undefined, access?: HostCallAccess, requested?: string): void => {
    const denial = gate.check(fn.call, resource, access, requested);
    if (denial !== undefined) throw refused(resource, denial.reason);
  };

  const context: HostCallContext = { call: fn.call, logger, decide: ask };
  // The resource the request named (for the audit record of a refusal), and whether the
  // last call of this function was refused by a limit (only the first of a run is audited).
  let named: string | undefined;
  let limited = false;

  /** Reads the request, asks the gate, runs the handler. Throws ForgeErrors meant for the guest. */
  const serve = (guest: GuestHeap, ptr: number, length: number): Uint8Array => {
    named = undefined;
    if (fn.resource === undefined) ask(undefined);
    if (length > fn.maxRequestBytes) {
      throw new ForgeError('FO_ABI_INPUT_TOO_LARGE', `${fn.call} takes requests of at most ${fn.maxRequestBytes} bytes, found ${length}`, {
        details: { call: fn.call, limit: fn.maxRequestBytes, actual: length },
      });
    }
    const request = length === 0 ? EMPTY : guest.read(ptr, length);
    if (request === undefined) {
      throw new ForgeError(
        'FO_ABI_BAD_POINTER',
        `${fn.call} request at ${ptr} of ${length} bytes: expected a region inside the plugin's ${guest.bytes().length}-byte memory`,
        { details: { call: fn.call, ptr, length, memoryBytes: guest.bytes().length } },
      );
    }
    if (fn.resource !== undefined) {
      named = fn.resource(request);
      ask(named);
    }
    const result: unknown = fn.handler(request, context);
    if (!(result instanceof Uint8Array) || result.length > MAX_REGION_BYTES) {
      throw new TypeError(`${fn.call} handler returned ${result instanceof Uint8Array ? `${result.length} bytes` : typeof result}; expected a Uint8Array of at most ${MAX_REGION_BYTES} bytes`);
    }
    return result;
  };

  /**
   * Reports a refusal the gate did not make (the handler's, a limit) to the gate, so it
   * is audited. A handler may add `details.requested` (what the guest literally asked
   * for, e.g. a URL) and `details.audit` (facts for the operator the guest must not see,
   * e.g. the address a name resolved to); `details.audited` marks a refusal the gate
   * already recorded.
   */
  const report = (refusal: ForgeError): void => {
    const details = refusal.details;
    if (details['audited'] === true) return;
    if (refusal.kind === 'limit') {
      if (limited) return;
      limited = true;
    } else if (refusal.kind !== 'denied') return;
    const extra = typeof details['audit'] === 'string' ? ` (${details['audit']})` : '';
    gate.refuse(fn.call, named, `${refusal.code}: ${refusal.message}${extra}`, typeof details['requested'] === 'string' ? details['requested'] : undefined);
  };

  return (rawPtr, rawLength) => {
    const guest = target();
    if (guest === undefined) {
      throw new ForgeError('FO_ABI_HOST_CALL_IN_START', `${fn.call} was called before the host could bind it to the instance's memory and allocator (from the module's start function)`, {
        details: { call: fn.call },
      });
    }
    // A poisoned guest that swallowed its fault gets nothing more from the host.
    if (guest.fault !== undefined) throw guest.fault;
    if (guest.allocating) {
      throw guest.poison(
        new ForgeError('FO_ABI_REENTRANT_CALL', `${fn.call} was called from inside forge_alloc or forge_free, which must not call the host`, {
          details: { call: fn.call },
        }),
      );
    }
    if (typeof rawPtr !== 'number' || typeof rawLength !== 'number') {
      throw guest.poison(
        new ForgeError('FO_ABI_BAD_SIGNATURE', `${fn.call} must be imported as (param i32 i32) (result i64), found parameters of type ${typeof rawPtr}, ${typeof rawLength}`, {
          details: { call: fn.call },
        }),
      );
    }
    let result: Uint8Array;
    let flags = 0;
    try {
      result = serve(guest, rawPtr >>> 0, rawLength >>> 0);
      limited = false;
    } catch (error) {
      const refusal = error instanceof ForgeError ? error : internalFailure(fn.call, error, logger);
      report(refusal);
      result = encodeErrorPayload(refusal.code, refusal.message);
      flags = ERROR_FLAG;
    }
    return deliver(guest, result, flags);
  };
}

function internalFailure(call: string, error: unknown, logger: Logger): ForgeError {
  logger.error('host function failed', { call, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  // SECURITY: host internals (stack, paths) stay in the host's log, not in the guest.
  return new ForgeError('FO_INTERNAL_UNEXPECTED', `${call} failed inside the host`);
}

/**
 * Copies a result into guest memory. When the guest cannot allocate it, the guest gets
 * an error result without a payload (error flag, length 0): there is no room for one.
 */
function deliver(guest: GuestHeap, bytes: Uint8Array, flags: number): bigint {
  if (bytes.length === 0) return packResult(0, 0, flags);
  let ptr: number;
  try {
    ptr = guest.write(bytes);
  } catch (error) {
    if (ForgeError.is(error, 'FO_ABI_GUEST_OUT_OF_MEMORY')) return packResult(0, 0, ERROR_FLAG);
    throw error; // the guest is poisoned; this unwinds through its code
  }
  return packResult(ptr, bytes.length, flags);
}
