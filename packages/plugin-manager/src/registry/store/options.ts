/**
 * How a plugin store is opened: where, its limits, how packages are verified, and
 * where refusals are audited. storeOptionsFromConfig (config.ts) builds it from
 * plugin-manager.yaml.
 */
import type { Logger } from '@forgeone/common';
import type { AuditLog } from '@forgeone/microkernel';
import type { OpenPackageOptions } from '../../attestation/index.js';
import type { PackageLimits } from '../../loader/index.js';
import type { StoreStepHook } from './steps.js';

/** How a store is opened; {@link storeOptionsFromConfig} builds it from plugin-manager.yaml. */
export interface PluginStoreOptions {
  /** `plugin_directory`, absolute. Created (mode 0755) when absent. */
  readonly directory: string;
  /** `max_plugins`: most plugins installed at once. Default 1000. */
  readonly maxPlugins?: number;
  /**
   * How packages are verified (from `loadAttestationSettings`). Install and rollback
   * need it; a store opened without it can list, get, verify and uninstall.
   */
  readonly verification?: OpenPackageOptions;
  /** Limits for reading packages. Default: `verification.limits`, else the built-in defaults. */
  readonly limits?: PackageLimits;
  /** How long a change waits for another process's lock, in milliseconds. Default 0. */
  readonly lockWaitMs?: number;
  /** Clock for install times, in ms since the epoch. Default `Date.now`. */
  readonly now?: () => number;
  /** Receives recoveries and changes. Default: silent. */
  readonly logger?: Logger;
  /**
   * Called at every named step of a change (steps.ts).
   * @internal For this package's crash tests only; not in the declarations.
   */
  readonly onStep?: StoreStepHook;
  /**
   * Where refused installs and rollbacks are recorded (a `deny` record each, naming the
   * package and the refusal; load-refusal.ts), and who is acting (`user:<name>`,
   * `host:<name>`). Default: not recorded.
   */
  readonly audit?: { readonly log: AuditLog; readonly principal: string };
}

/** Default `max_plugins`. */
export const DEFAULT_MAX_PLUGINS = 1000;
