/**
 * Plugin lifecycle states and the transitions between them. Every transition not in
 * {@link TRANSITIONS} is illegal and refused with FO_LIFECYCLE_BAD_TRANSITION.
 *
 * ```
 * Created -> Initializing -> Ready -> Running <-> Paused
 *                  |           |        |          |
 *                  v           v        v          v
 *                Failed      Unloaded  Stopping <--+
 *                                        |
 *                                        v
 *                                      Stopped -> Running (start again), Unloaded
 * Failed -> Initializing (restart), Unloaded; any state but Unloaded -> Quarantined
 * Quarantined -> Unloaded (after the operator releases it)
 * ```
 */
import { ForgeError } from '@forgeone/common';

/** The states of a plugin. */
export const PluginState = {
  Created: 'created',
  Initializing: 'initializing',
  Ready: 'ready',
  Running: 'running',
  Paused: 'paused',
  Stopping: 'stopping',
  Stopped: 'stopped',
  Failed: 'failed',
  Unloaded: 'unloaded',
  Quarantined: 'quarantined',
} as const;

/** One of the {@link PluginState} values. */
export type PluginState = (typeof PluginState)[keyof typeof PluginState];

const S = PluginState;

/** Legal transitions: from -> the states it may move to. */
export const TRANSITIONS: Readonly<Record<PluginState, readonly PluginState[]>> = {
  [S.Created]: [S.Initializing, S.Unloaded, S.Quarantined],
  [S.Initializing]: [S.Ready, S.Failed, S.Quarantined],
  [S.Ready]: [S.Running, S.Failed, S.Unloaded, S.Quarantined],
  [S.Running]: [S.Paused, S.Stopping, S.Failed, S.Quarantined],
  [S.Paused]: [S.Running, S.Stopping, S.Failed, S.Quarantined],
  [S.Stopping]: [S.Stopped, S.Failed, S.Quarantined],
  [S.Stopped]: [S.Running, S.Unloaded, S.Quarantined],
  [S.Failed]: [S.Initializing, S.Unloaded, S.Quarantined],
  [S.Quarantined]: [S.Unloaded],
  [S.Unloaded]: [],
};

/** True when a plugin may move from `from` to `to`. */
export function canTransition(from: PluginState, to: PluginState): boolean {
  return TRANSITIONS[from].includes(to);
}

/**
 * Checks a transition.
 * @throws ForgeError FO_LIFECYCLE_BAD_TRANSITION naming both states and the legal targets
 */
export function assertTransition(plugin: string, from: PluginState, to: PluginState): void {
  if (!canTransition(from, to)) {
    const legal = TRANSITIONS[from];
    throw new ForgeError('FO_LIFECYCLE_BAD_TRANSITION', `plugin ${plugin} cannot go from ${from} to ${to} (from ${from} it can go to ${legal.length === 0 ? 'nothing' : legal.join(', ')})`, {
      details: { plugin, from, to, legal },
    });
  }
}

/** Running or Paused: the plugin was started and not stopped since. */
export function isActive(state: PluginState): boolean {
  return state === PluginState.Running || state === PluginState.Paused;
}
