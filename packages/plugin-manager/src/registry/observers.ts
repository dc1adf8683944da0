/**
 * The registry's observers (metrics/observer.ts): a fan-out that keeps one observer's
 * exception from reaching the plugin call, the lifecycle step or the others.
 */
import { toForgeError, type Logger } from '@forgeone/common';
import type { CallReport, ObservedAnomaly, ObservedPlugin, RegistryObserver } from '../metrics/index.js';
import type { Transition } from '../lifecycle/index.js';
import type { HostCallCount } from '@forgeone/microkernel';

/** See the module comment. */
export class RegistryObservers {
  readonly #logger: Logger;
  #observers: readonly RegistryObserver[] = [];
  #watchingCalls = false;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** True when an observer wants call reports (the registry then measures each call). */
  get watchingCalls(): boolean {
    return this.#watchingCalls;
  }

  /** Adds an observer; returns a function that removes it. */
  add(observer: RegistryObserver): () => void {
    this.#set([...this.#observers, observer]);
    return () => this.#set(this.#observers.filter((existing) => existing !== observer));
  }

  call(report: CallReport): void {
    for (const observer of this.#observers) if (observer.call !== undefined) this.#safely('call', () => observer.call?.(report));
  }

  transition(plugin: ObservedPlugin, transition: Transition): void {
    for (const observer of this.#observers) if (observer.transition !== undefined) this.#safely('transition', () => observer.transition?.(plugin, transition));
  }

  anomaly(plugin: ObservedPlugin, anomaly: ObservedAnomaly): void {
    for (const observer of this.#observers) if (observer.anomaly !== undefined) this.#safely('anomaly', () => observer.anomaly?.(plugin, anomaly));
  }

  hostCalls(plugin: ObservedPlugin, counts: readonly HostCallCount[]): void {
    for (const observer of this.#observers) if (observer.hostCalls !== undefined) this.#safely('hostCalls', () => observer.hostCalls?.(plugin, counts));
  }

  #set(observers: readonly RegistryObserver[]): void {
    this.#observers = observers;
    this.#watchingCalls = observers.some((observer) => observer.call !== undefined);
  }

  #safely(what: string, run: () => void): void {
    try {
      run();
    } catch (error) {
      this.#logger.warn(`a registry observer's ${what} threw`, { error: toForgeError(error).message });
    }
  }
}

/** The observed form of a plugin's id and identity. */
export function observedPlugin(id: string, identity: Omit<ObservedPlugin, 'id'>): ObservedPlugin {
  return { id, publisher: identity.publisher, name: identity.name, version: identity.version, digest: identity.digest };
}
