/**
 * A plugin in a sandbox process: a pool handle (pool-handle.ts) whose `pause` step ends
 * with the sandbox frozen, and whose every other step starts by thawing it.
 *
 * After the plugin's pause entry point ran, its sandbox's cgroup is frozen (v2
 * cgroup.freeze, v1 freezer.state) once every plugin of the sandbox is paused (with one
 * sandbox per plugin: at once), so a paused plugin's process uses no CPU at all. Resume,
 * stop and unload thaw it first. A call into a frozen sandbox would wait for a process
 * that cannot run, so it is refused (FO_LIFECYCLE_NOT_RUNNING) instead; the registry
 * never makes one (calls to a paused plugin wait for resume).
 */
import { ForgeError } from '@forgeone/common';
import type { EntryPointName } from '../../plugin/index.js';
import { PoolHandle } from '../pool-handle.js';
import type { CallProbe, CallerFuel } from '../spec.js';
import { inSyncCall } from './direct.js';
import type { SandboxSlot } from './freezer.js';

/** See the module comment. */
export class ProcessHandle extends PoolHandle {
  readonly #sandbox: SandboxSlot;

  constructor(base: ConstructorParameters<typeof PoolHandle>, sandbox: SandboxSlot) {
    super(...base);
    this.#sandbox = sandbox;
  }

  override call(exportName: string, input: Uint8Array, probe?: CallProbe): Promise<Uint8Array> {
    if (this.#sandbox.frozen) return Promise.reject(this.#frozen(exportName));
    return super.call(exportName, input, probe);
  }

  override callSync(exportName: string, input: Uint8Array, fuel?: CallerFuel, probe?: CallProbe): Uint8Array {
    if (this.#sandbox.frozen) throw this.#frozen(exportName);
    return inSyncCall(() => super.callSync(exportName, input, fuel, probe));
  }

  override async lifecycle(step: EntryPointName): Promise<boolean> {
    if (step !== 'pause') {
      await this.#sandbox.thaw();
      this.#sandbox.paused.delete(this.record);
      return super.lifecycle(step);
    }
    const ran = await super.lifecycle(step);
    this.#sandbox.paused.add(this.record);
    await this.#sandbox.freezeIfAllPaused();
    return ran;
  }

  override async unload(): Promise<void> {
    await this.#sandbox.thaw().catch(() => undefined); // a sandbox that will not thaw is killed by the unload's timeout
    this.#sandbox.paused.delete(this.record);
    return super.unload();
  }

  #frozen(exportName: string): ForgeError {
    return new ForgeError('FO_LIFECYCLE_NOT_RUNNING', `plugin ${this.id} is paused (its sandbox is frozen); the call of ${JSON.stringify(exportName)} did not run`, { details: { plugin: this.id } });
  }
}
