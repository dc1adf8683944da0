/**
 * The plugin store on disk (docs/store.md): atomic install, upgrade with rollback,
 * uninstall, max_plugins, permission re-approval, and the lock that keeps two
 * processes from changing it at once.
 */
export { PluginStore } from './store.js';
export { DEFAULT_MAX_PLUGINS, type PluginStoreOptions } from './options.js';
export type { InstallOptions, InstallResult, InstalledPlugin, InstalledVersion, UninstallResult, VersionPaths } from './types.js';
export { storeOptionsFromConfig } from './config.js';
export {
  callPatternCovers,
  diffPermissions,
  hostPatternCovers,
  renderPermissionDiff,
  type PermissionDiff,
  type PermissionListChange,
  type PermissionVolumeChange,
} from './permission-diff.js';
export { STORE_STEPS, type StoreOperation, type StoreStep, type StoreStepHook } from './steps.js';
export { STORE_FORMAT } from './layout.js';
export { dataDirectory, publisherKey, type DataOwner } from './data.js';
export type { StoreLockOwner } from './lock.js';
export type { IntegrityProblem } from './integrity.js';
