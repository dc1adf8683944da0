/**
 * Bringing an instance its backend re-created back to where its plugin stands.
 *
 * A backend re-creates an instance through no fault of the plugin when a neighbour's
 * timeout or crash replaced their pool worker, or when the plugin ran out of fuel that a
 * caller lent it (forge.call_plugin). The new instance starts from the module's initial
 * state and no entry point has run on it. That is not a crash: the plugin keeps its
 * lifecycle state and its restart history (no restart is counted, nothing moves it
 * towards quarantine), and the entry points that brought the old instance to that state
 * run again on the new one.
 */
import { toForgeError, type ForgeError } from '@forgeone/common';
import { PluginState } from '../lifecycle/index.js';
import type { EntryPointName } from '../plugin/index.js';
import type { PluginHandle } from '../sandbox/index.js';

/** The entry points that bring a fresh instance to `state`, in order; none for states without a live instance. */
export function replaySteps(state: PluginState): EntryPointName[] {
  switch (state) {
    case PluginState.Ready:
    case PluginState.Stopped:
      return ['init'];
    case PluginState.Running:
      return ['init', 'start'];
    case PluginState.Paused:
      return ['init', 'start', 'pause'];
    case PluginState.Created:
    case PluginState.Failed:
    case PluginState.Quarantined:
    case PluginState.Unloaded:
      // No live instance to bring back.
      return [];
    case PluginState.Initializing:
    case PluginState.Stopping:
      // The step in progress failed with the restart (FO_SANDBOX_RESTARTED) and settles the state.
      return [];
  }
}

/** Failures of a replayed step that say the instance went away again (another event follows, or it was unloaded), not that the plugin failed. */
const INTERRUPTED = new Set(['FO_SANDBOX_RESTARTED', 'FO_SANDBOX_WORKER_REPLACED', 'FO_SANDBOX_UNLOADED', 'FO_SANDBOX_CLOSED']);

/**
 * Runs `steps` on `handle`. Every step is asked for at once, so on a backend that queues
 * per plugin (the pool) they run before any call made after this returns.
 * @returns the first failure of the plugin's own (its entry point failed or trapped), or
 *   undefined when every step ran or the instance went away again meanwhile
 */
export async function replay(handle: PluginHandle, steps: readonly EntryPointName[]): Promise<ForgeError | undefined> {
  const outcomes = await Promise.allSettled(steps.map((step) => handle.lifecycle(step)));
  for (const outcome of outcomes) {
    if (outcome.status === 'fulfilled') continue;
    const failure = toForgeError(outcome.reason);
    return INTERRUPTED.has(failure.code) ? undefined : failure;
  }
  return undefined;
}
