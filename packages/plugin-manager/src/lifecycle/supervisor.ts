/**
 * The supervisor: what happens when a plugin crashes. A crash (a trap that poisoned the
 * instance, fuel or time running out, a dead worker) fails the plugin, discards its
 * instance, and applies the restart policy (restart.ts): restart after a growing delay,
 * give up, or quarantine. With `restart: always` a failed init or start is retried
 * the same way. The registry owns the plugins; the supervisor only decides and
 * schedules, through the callbacks it is given.
 */
import { ForgeError, toForgeError, type Logger, type RuntimeConfig } from '@forgeone/common';
import type { LifecycleController } from './controller.js';
import { CrashHistory } from './restart.js';
import { PluginState } from './state.js';

/** Errors after which a plugin's instance cannot be trusted and must be re-created. */
const CRASH_CODES = new Set(['FO_ABI_GUEST_TRAP', 'FO_SANDBOX_CPU_LIMIT', 'FO_ABI_INSTANCE_POISONED', 'FO_SANDBOX_TIMEOUT', 'FO_SANDBOX_WORKER_FAILED', 'FO_RUNTIME_TRAP']);

/** What the supervisor needs of one plugin. */
export interface Supervised {
  readonly id: string;
  readonly controller: LifecycleController;
  readonly crashes: CrashHistory;
  /** The plugin's instance, if any; discarded on a crash. */
  handle: { unload(): Promise<void> } | undefined;
  /** A scheduled restart, if any. */
  restartTimer: NodeJS.Timeout | undefined;
}

/** The restart policy's settings (`runtime.*`). */
export type RestartSettings = Pick<RuntimeConfig, 'restart' | 'max_restarts' | 'restart_backoff' | 'restart_backoff_max' | 'quarantine_after' | 'crash_window'>;

/** How a {@link Supervisor} reaches the plugins it watches. */
export interface SupervisorOptions {
  readonly settings: RestartSettings;
  /** ms since the epoch. */
  readonly clock: () => number;
  readonly logger: Logger;
  /** Starts the plugin again (dependencies first). */
  readonly restart: (id: string) => Promise<void>;
  /** True while `plugin` is still the one loaded under its id (not unloaded, not replaced). */
  readonly isCurrent: (plugin: Supervised) => boolean;
}

/** See the module comment. */
export class Supervisor {
  readonly #options: SupervisorOptions;

  constructor(options: SupervisorOptions) {
    this.#options = options;
  }

  /** True when `error` means the instance that raised it is a crash, not a refusal. */
  isCrash(error: ForgeError): boolean {
    return CRASH_CODES.has(error.code);
  }

  /** A plugin's history, for a new plugin. */
  history(): CrashHistory {
    return new CrashHistory();
  }

  /**
   * A call or the backend reported that the plugin's instance crashed: fail the plugin,
   * discard the instance, and restart, give up or quarantine as the policy says.
   */
  crashed(plugin: Supervised, error: ForgeError): void {
    const { controller } = plugin;
    if (controller.state === PluginState.Failed || controller.state === PluginState.Quarantined) return;
    const wasRunning = controller.state === PluginState.Running || controller.state === PluginState.Paused;
    controller.fail(error);
    const handle = plugin.handle;
    plugin.handle = undefined;
    void handle?.unload().catch(() => undefined);
    if (wasRunning) this.#schedule(plugin, error, false);
    else plugin.crashes.decide(this.#options.settings, this.#options.clock());
  }

  /** A start (or the init before it) failed; with `restart: always` it is retried like a crash. */
  startFailed(plugin: Supervised, error: ForgeError): void {
    if (this.#options.settings.restart === 'always' && plugin.controller.state === PluginState.Failed) this.#schedule(plugin, error, true);
  }

  /** The plugin runs cleanly again: the backoff starts over. */
  recovered(plugin: Supervised): void {
    plugin.crashes.recovered();
  }

  /** Cancels a scheduled restart (the plugin is being unloaded). */
  release(plugin: Supervised): void {
    clearTimeout(plugin.restartTimer);
    plugin.restartTimer = undefined;
  }

  /** Applies the restart policy to a crash: restart after a delay, give up, or quarantine. */
  #schedule(plugin: Supervised, error: ForgeError, stepFailed: boolean): void {
    const { settings, logger } = this.#options;
    const decision = plugin.crashes.decide(settings, this.#options.clock(), stepFailed);
    logger.warn('plugin crashed', { plugin: plugin.id, code: error.code, action: decision.action });
    if (decision.action === 'quarantine') {
      plugin.controller.quarantine(new ForgeError('FO_LIFECYCLE_QUARANTINED', `plugin ${plugin.id} ${decision.reason}`));
      return;
    }
    if (decision.action === 'give-up') return;
    clearTimeout(plugin.restartTimer);
    plugin.restartTimer = setTimeout(() => {
      // SECURITY: the timer belongs to this plugin object; a plugin loaded since under
      // the same id (perhaps from another publisher) is not restarted by it.
      if (!this.#options.isCurrent(plugin) || plugin.controller.state !== PluginState.Failed) return;
      this.#options.restart(plugin.id).catch((restartError: unknown) => {
        const failure = toForgeError(restartError);
        logger.warn('restarting a plugin failed', { plugin: plugin.id, code: failure.code });
        // A restart that fails is another crash (with restart: always, the start already rescheduled it).
        if (plugin.controller.state === PluginState.Failed && settings.restart !== 'always') this.#schedule(plugin, failure, false);
      });
    }, decision.delayMs);
    plugin.restartTimer.unref();
  }
}
