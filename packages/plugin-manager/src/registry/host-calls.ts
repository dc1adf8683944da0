/**
 * Host calls served on the host thread, for every backend: the registry's own
 * (`forge.register_extension`, `forge.call_plugin`) and those the application
 * registered (`registerHostCall`). A backend's gate has already decided each call by
 * policy (manifest, operator grants, Cedar) before it arrives here; what is checked
 * here is what only the registry knows: that a call_plugin target is a declared
 * dependency, that an extension point is offered.
 */
import { ForgeError } from '@forgeone/common';
import type { SyscallBridge } from '@forgeone/microkernel';
import { PluginState } from '../lifecycle/index.js';
import { decodeCallPlugin, decodeRegisterExtension, type ExtensionPoints } from '../extension/index.js';
import type { CallProbe, CallerFuel, PluginHandle } from '../sandbox/index.js';
import { registeredCallResource, runRegisteredCall } from '../syscall/index.js';
import type { CallWatch } from './call-watch.js';
import type { PluginRecord } from './record.js';

/** The registry's own host calls, served on the host thread. */
export const REGISTRY_CALLS = ['forge.register_extension', 'forge.call_plugin'] as const;

/** What the router reaches. */
export interface HostCallRouterParts {
  /** A loaded plugin by id. @throws ForgeError FO_REGISTRY_NOT_FOUND */
  readonly get: (id: string) => PluginRecord;
  readonly extensions: ExtensionPoints;
  /** The host calls the application registered. */
  readonly hostCalls: SyscallBridge;
  /** True while an instance's lifecycle steps are re-run after its backend re-created it. */
  readonly replaying: (handle: PluginHandle) => boolean;
  /** Reports calls between plugins to the registry's observers. */
  readonly watch: CallWatch;
}

/** See the module comment. */
export class HostCallRouter {
  readonly #get: (id: string) => PluginRecord;
  readonly #extensions: ExtensionPoints;
  readonly #hostCalls: SyscallBridge;
  readonly #replaying: (handle: PluginHandle) => boolean;
  readonly #watch: CallWatch;

  constructor(parts: HostCallRouterParts) {
    this.#get = parts.get;
    this.#extensions = parts.extensions;
    this.#hostCalls = parts.hostCalls;
    this.#replaying = parts.replaying;
    this.#watch = parts.watch;
  }

  /**
   * Host calls served on the host thread: the registry's own and the application's.
   * `fuel` is the caller's, lent to a plugin it calls (docs/runtime.md).
   * @throws ForgeError FO_REGISTRY_NOT_FOUND, FO_ABI_BAD_REQUEST, FO_EXTENSION_UNKNOWN_POINT,
   *   FO_EXTENSION_NOT_DECLARED, the target's codes for forge.call_plugin, the handler's codes
   */
  hostCall(plugin: string, name: string, request: Uint8Array, fuel?: CallerFuel): Uint8Array {
    const record = this.#get(plugin);
    if (name === 'forge.register_extension') {
      const { point, export: exportName } = decodeRegisterExtension(request);
      this.#extensions.register(record.id, point, exportName);
      return new Uint8Array(0);
    }
    if (name === 'forge.call_plugin') {
      const { plugin: target, export: exportName, input } = decodeCallPlugin(request);
      if (record.dependencies[target] === undefined) {
        throw new ForgeError('FO_EXTENSION_NOT_DECLARED', `plugin ${record.id} may call only the plugins it declares in dependencies; ${target} is not one`, { details: { target } });
      }
      // Policy (manifest grant, operator grants, Cedar on the target's name) was decided
      // by the plugin's gate in its backend before this runs; the declaration is ours.
      const callee = this.#get(target);
      const call = (probe?: CallProbe): Uint8Array => this.#callSync(callee, exportName, input, fuel, probe);
      return this.#watch.active ? this.#watch.runSync(callee, exportName, record.id, call) : call();
    }
    return runRegisteredCall(this.#hostCalls, name, request, record.who);
  }

  /**
   * The resource a host-thread call's request touches, for the plugin's gate.
   * @throws ForgeError FO_ABI_BAD_REQUEST for a malformed request
   */
  hostCallResource(name: string, request: Uint8Array): string | undefined {
    if (name === 'forge.call_plugin') return decodeCallPlugin(request).plugin;
    if (name === 'forge.register_extension') return undefined;
    return registeredCallResource(this.#hostCalls, name, request);
  }

  /** A synchronous call into another plugin, for forge.call_plugin, on the caller's fuel (the callee's own budget at most). */
  #callSync(record: PluginRecord, exportName: string, input: Uint8Array, fuel: CallerFuel | undefined, probe: CallProbe | undefined): Uint8Array {
    const target = record.id;
    if (record.controller.state !== PluginState.Running) throw new ForgeError('FO_LIFECYCLE_NOT_RUNNING', `plugin ${target} is ${record.controller.state}, not running`);
    if (record.native !== undefined) {
      const result = record.native.exports?.[exportName]?.call(record.native, input);
      if (result === undefined) throw new ForgeError('FO_ABI_NO_SUCH_EXPORT', `native plugin ${target} has no export ${exportName}`);
      if (result instanceof Promise) throw new ForgeError('FO_SYSCALL_ASYNC_HANDLER', `native plugin ${target}'s ${exportName} answers asynchronously, so plugins cannot call it`);
      return result;
    }
    const handle = record.handle;
    if (handle !== undefined && this.#replaying(handle)) {
      throw new ForgeError('FO_SANDBOX_RESTARTED', `plugin ${target}'s instance was re-created and its lifecycle steps are running again; the call did not run`, { details: { plugin: target } });
    }
    if (handle?.callSync === undefined) {
      throw new ForgeError('FO_SYSCALL_ASYNC_HANDLER', `plugin ${target} runs on a backend that cannot be called synchronously from another plugin`);
    }
    return handle.callSync(exportName, input, fuel, probe);
  }
}
