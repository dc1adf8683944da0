/**
 * Host calls a host application registered with the syscall bridge
 * (`SyscallBridge.register`), offered to plugins as forge/1 host functions: the request
 * is the call's arguments as UTF-8 JSON, the response its result as UTF-8 JSON. Like
 * Extism host functions, but every argument passes the call's schema and every call
 * passes policy and the audit log (the gate the host functions are bound to).
 */
import { ForgeError, type IdentityContext } from '@forgeone/common';
import type { SyscallBridge } from '@forgeone/microkernel';
import type { HostFunctionDefinition } from '../abi/index.js';
import { decodeUtf8, utf8 } from './codec.js';

/** Decodes a forge/1 request (UTF-8 JSON) and validates it with the bridge's schema for `name`. */
function decoder(name: string, bridge: SyscallBridge): (request: Uint8Array) => unknown {
  if (bridge.definition(name) === undefined) throw new ForgeError('FO_SYSCALL_UNKNOWN', `no host call named ${name} is registered`);
  return (request) => {
    const text = decodeUtf8(request);
    let json: unknown;
    try {
      json = text === undefined ? undefined : (JSON.parse(text) as unknown);
    } catch {
      json = undefined;
    }
    if (json === undefined) throw new ForgeError('FO_ABI_BAD_REQUEST', `${name}: expected the arguments as UTF-8 JSON`);
    return bridge.parseArgs(name, json).args;
  };
}

/**
 * The forge/1 host functions for every call registered with `bridge`, acting for
 * `identity`. Policy and audit happen in the gate the registry is bound to; this
 * adapter validates arguments and runs the handler, which must answer synchronously.
 *
 * @throws (to the guest) FO_ABI_BAD_REQUEST, FO_SYSCALL_INVALID_ARGS, FO_SYSCALL_ASYNC_HANDLER,
 *   or the handler's ForgeError
 */
export function registeredHostFunctions(bridge: SyscallBridge, identity: IdentityContext): HostFunctionDefinition[] {
  return bridge.registeredNames().map((name): HostFunctionDefinition => {
    const definition = bridge.definition(name);
    const decode = decoder(name, bridge);
    const resourceOf = definition?.resourceOf;
    return {
      name: name.slice('forge.'.length),
      ...(resourceOf === undefined ? {} : { resource: (request: Uint8Array) => resourceOf(decode(request)) }),
      handler: (request) => runRegisteredCall(bridge, name, request, identity),
    };
  });
}

/**
 * Runs a registered call for `identity` from its forge/1 request (UTF-8 JSON), as the
 * host thread does for plugins in other threads: arguments validated by the call's
 * schema, handler run synchronously, result as UTF-8 JSON. Policy was decided by the
 * plugin's gate before this runs.
 * @throws ForgeError FO_SYSCALL_UNKNOWN, FO_ABI_BAD_REQUEST, FO_SYSCALL_INVALID_ARGS, FO_SYSCALL_ASYNC_HANDLER, the handler's
 */
export function runRegisteredCall(bridge: SyscallBridge, name: string, request: Uint8Array, identity: IdentityContext): Uint8Array {
  const definition = bridge.definition(name);
  if (definition === undefined) throw new ForgeError('FO_SYSCALL_UNKNOWN', `no host call named ${name} is registered`);
  const result = definition.handler(decoder(name, bridge)(request), identity);
  if (result instanceof Promise) {
    void result.catch(() => undefined);
    throw new ForgeError('FO_SYSCALL_ASYNC_HANDLER', `${name}: the host's handler returned a promise; host calls plugins make must answer synchronously`);
  }
  return utf8(JSON.stringify(result ?? null));
}

/** The resource a registered call's request touches, for the plugin's gate. @throws as {@link runRegisteredCall} */
export function registeredCallResource(bridge: SyscallBridge, name: string, request: Uint8Array): string | undefined {
  const definition = bridge.definition(name);
  if (definition?.resourceOf === undefined) return undefined;
  return definition.resourceOf(decoder(name, bridge)(request));
}
