/**
 * From plugin-manager.yaml to {@link PluginStoreOptions}: the composition root (the
 * registry, `forge`) loads the verification settings once with
 * `loadAttestationSettings` and passes them here.
 */
import type { ForgeConfig } from '@forgeone/common';
import type { OpenPackageOptions } from '../../attestation/index.js';
import { packageLimitsFromConfig } from '../../loader/index.js';
import type { PluginStoreOptions } from './options.js';

/**
 * Store options from the normalised configuration: `plugin_directory`,
 * `max_plugins` and `package_limits`. `temp_directory` is deliberately not used: the
 * store's scratch space must be on the same file system as the plugins for its
 * renames to be atomic, so it lives in `<plugin_directory>/.store/staging`.
 *
 * @param verification from `loadAttestationSettings(config.security, configDir)`;
 *   omit it for a store that only lists, verifies and uninstalls
 */
export function storeOptionsFromConfig(
  config: Pick<ForgeConfig, 'plugin_directory' | 'max_plugins' | 'package_limits'>,
  verification?: OpenPackageOptions,
  extra: Omit<PluginStoreOptions, 'directory' | 'maxPlugins' | 'limits' | 'verification'> = {},
): PluginStoreOptions {
  return {
    ...extra,
    directory: config.plugin_directory,
    maxPlugins: config.max_plugins,
    limits: packageLimitsFromConfig(config.package_limits),
    ...(verification === undefined ? {} : { verification }),
  };
}
