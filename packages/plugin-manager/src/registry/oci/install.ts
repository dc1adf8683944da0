/**
 * `install REF`: pull, then hand the bytes to the store, which verifies them exactly as
 * it verifies a local file and installs atomically. A pull that fails leaves the store
 * untouched because nothing reaches it before every digest has been checked.
 */
import type { PluginStore } from '../store/store.js';
import type { InstallOptions, InstallResult } from '../store/types.js';
import type { OciClient } from './client.js';
import { pullPackage, type PullOptions, type PullResult } from './pull.js';
import type { OciReference } from './reference.js';

/** What {@link installFromRegistry} did. */
export interface RegistryInstallResult {
  readonly pulled: Omit<PullResult, 'bytes'>;
  readonly installed: InstallResult;
}

/**
 * Pulls `ref` and installs it into `store`.
 * @throws ForgeError every code of {@link pullPackage}, then every code of PluginStore.install
 *   (FO_VERIFY_*, FO_BUNDLE_*, FO_STORE_*...)
 */
export async function installFromRegistry(
  client: OciClient,
  ref: OciReference,
  store: PluginStore,
  options: PullOptions & InstallOptions = {},
): Promise<RegistryInstallResult> {
  const pulled = await pullPackage(client, ref, { repack: 'fast', ...options });
  const installed = await store.install(pulled.bytes, options);
  return { pulled: { digest: pulled.digest, signatures: pulled.signatures }, installed };
}
