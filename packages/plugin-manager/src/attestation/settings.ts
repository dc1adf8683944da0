/**
 * From `plugin_manager.security` to what {@link openVerifiedPackage} needs: the
 * composition root (registry, `forge`) calls this once at start-up and keeps the
 * result, so the trust store stays warm across packages.
 */
import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { SecurityConfig } from '@forgeone/common';
import type { OpenPackageOptions } from './open.js';
import { DEFAULT_SIGNER_POLICY, loadSignerPolicy } from './policy.js';
import { TrustStore } from './trust-store.js';

/**
 * Loads the trust store and signer policy named by the configuration.
 *
 * With `verify_signatures: true` the trust store must load. With `false` it is
 * loaded only if it exists, so verified plugins still get their attested identity.
 *
 * @param configDir the configuration file's directory; relative `trust_store` and
 *   `signer_policy` paths are taken from it
 * @throws ForgeError the codes of TrustStore.load and loadSignerPolicy, FO_IO_NOT_FOUND
 *   for a missing trust store when signatures are required
 */
export async function loadAttestationSettings(security: SecurityConfig, configDir: string): Promise<OpenPackageOptions> {
  const policy = security.signer_policy === undefined ? DEFAULT_SIGNER_POLICY : await loadSignerPolicy(resolve(configDir, security.signer_policy));
  const trustPath = resolve(configDir, security.trust_store);
  if (security.verify_signatures) return { verifySignatures: true, trustStore: await TrustStore.load(trustPath), policy };
  const exists = await access(trustPath).then(
    () => true,
    () => false,
  );
  return exists ? { verifySignatures: false, trustStore: await TrustStore.load(trustPath), policy } : { verifySignatures: false, policy };
}
