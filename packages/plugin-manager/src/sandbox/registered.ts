/**
 * Host calls served on the host thread (the host application's, the registry's own),
 * offered to a plugin as forge/1 host functions inside its backend.
 *
 * The backend's gate decides each call like any other, with the resource the host
 * names for the request ({@link BackendHost.hostCallResource}); only then does
 * {@link BackendHost.hostCall} run it. On the pool backend each step is one blocking
 * round trip from the worker to the host thread.
 */
import type { CallCatalog, CallSpec, SyscallBridge } from '@forgeone/microkernel';
import { HOST_MODULE, type HostFunctionDefinition } from '../abi/index.js';
import { registeredSpec } from './policy.js';
import type { CallerFuel } from './spec.js';

/** What a backend thread uses to reach the host's registered calls. */
export interface RegisteredCallPort {
  /**
   * Runs the call on the host thread, with the calling plugin's fuel when it is metered
   * (what a call into another plugin may draw on; {@link CallerFuel}).
   * @throws ForgeError the host's refusal
   */
  call(name: string, request: Uint8Array, fuel: CallerFuel | undefined): Uint8Array;
  /** Names the resource the request touches. @throws ForgeError to refuse a malformed request */
  resource(name: string, request: Uint8Array): string | undefined;
}

/** The largest request a registered call takes, in bytes (the forge/1 default for host functions is 1 MiB). */
export const MAX_REGISTERED_REQUEST_BYTES = 1024 * 1024;

/**
 * One host function per registered call, each named without its `forge.` prefix.
 * A call whose resource kind is `none` asks the gate before its request is read; the
 * others ask the host for the resource first.
 * @param fuel the calling plugin's fuel while one of these runs (undefined: not metered)
 */
export function registeredHostFunctions(registered: readonly (string | CallSpec)[], catalog: CallCatalog, port: RegisteredCallPort, fuel: () => CallerFuel | undefined): HostFunctionDefinition[] {
  return registered.map((entry): HostFunctionDefinition => {
    const spec = registeredSpec(entry, catalog);
    const name = spec.name;
    return {
      name: name.slice(HOST_MODULE.length + 1),
      maxRequestBytes: MAX_REGISTERED_REQUEST_BYTES,
      ...(spec.resource === 'none' ? {} : { resource: (request: Uint8Array) => port.resource(name, request) }),
      handler: (request) => port.call(name, request, fuel()),
    };
  });
}

/**
 * The CallSpecs of the calls a host application registered with `bridge`, for
 * `PluginSpec.hostCalls.registered`, so a backend's gate decides them as `bridge` would.
 */
export function registeredCallSpecs(bridge: SyscallBridge): CallSpec[] {
  return bridge.registeredNames().map((name) => {
    const known = bridge.trust.catalog.get(name);
    const definition = bridge.definition(name);
    return known ?? { name, resource: definition?.resource ?? 'none', requires: definition?.requires ?? 'explicit' };
  });
}
