/**
 * The bookkeeping every backend's {@link PluginHandle} shares: counters, the state
 * (ready, poisoned, unloaded), the fault, and the event listeners.
 */
import { ForgeError } from '@forgeone/common';
import type { HandleEvent, HandleState, HandleStats } from './spec.js';

/** Counters, state and listeners of one handle. Host thread only. */
export class HandleBook {
  readonly id: string;
  #state: HandleState = 'ready';
  #fault: ForgeError | undefined;
  #calls = 0;
  #failures = 0;
  #restarts = 0;
  #lastFuelUsed = 0n;
  #memoryBytes = 0;
  /** Made on the first listener: most handles (idle plugins by the thousand) never get one. */
  #listeners: Set<(event: HandleEvent) => void> | undefined;
  /** Reports a listener's exception; listeners must not break the backend. */
  readonly #onListenerError: (error: unknown) => void;

  constructor(id: string, onListenerError: (error: unknown) => void) {
    this.id = id;
    this.#onListenerError = onListenerError;
  }

  get state(): HandleState {
    return this.#state;
  }

  get fault(): ForgeError | undefined {
    return this.#fault;
  }

  stats(): HandleStats {
    return { calls: this.#calls, failures: this.#failures, lastFuelUsed: this.#lastFuelUsed, restarts: this.#restarts, memoryBytes: this.#memoryBytes };
  }

  /** Counts a call or step that ran; `memoryBytes`: the instance's memory after it, when the backend reports it. */
  ran(ok: boolean, fuelUsed: bigint, memoryBytes?: number): void {
    this.#calls += 1;
    if (!ok) this.#failures += 1;
    this.#lastFuelUsed = fuelUsed;
    if (memoryBytes !== undefined) this.#memoryBytes = memoryBytes;
  }

  /**
   * Refuses a call unless the handle is ready.
   * @throws ForgeError FO_SANDBOX_UNLOADED, FO_ABI_INSTANCE_POISONED
   */
  assertCallable(what: string): void {
    if (this.#state === 'unloaded') throw unloaded(this.id, what);
    const fault = this.#fault;
    if (fault !== undefined) {
      throw new ForgeError('FO_ABI_INSTANCE_POISONED', `${what} refused: plugin ${this.id} is poisoned (${fault.code}: ${fault.message})`, {
        details: { plugin: this.id, fault: fault.toJSON() },
      });
    }
  }

  /** Marks the instance unusable and tells the listeners (once). */
  poison(fault: ForgeError): void {
    if (this.#state !== 'ready') return;
    this.#state = 'poisoned';
    this.#fault = fault;
    this.#emit({ type: 'poisoned', fault });
  }

  /** Counts a re-creation and tells the listeners. */
  restarted(reason: ForgeError): void {
    if (this.#state === 'unloaded') return;
    this.#restarts += 1;
    this.#emit({ type: 'restarted', reason });
  }

  /** Marks the handle unloaded. @returns false when it already was */
  unload(): boolean {
    if (this.#state === 'unloaded') return false;
    this.#state = 'unloaded';
    this.#listeners = undefined;
    return true;
  }

  onEvent(listener: (event: HandleEvent) => void): () => void {
    const listeners = (this.#listeners ??= new Set());
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }

  #emit(event: HandleEvent): void {
    for (const listener of [...(this.#listeners ?? [])]) {
      try {
        listener(event);
      } catch (error) {
        this.#onListenerError(error);
      }
    }
  }
}

/** FO_SANDBOX_UNLOADED for `what` on plugin `id`. */
export function unloaded(id: string, what: string): ForgeError {
  return new ForgeError('FO_SANDBOX_UNLOADED', `${what} refused: plugin ${id} was unloaded`, { details: { plugin: id } });
}
