/**
 * The one door through which the registry (and `forge install`) takes a package in:
 * read it under limits, verify it, and say who the plugin is. With
 * `verifySignatures: true` an unsigned or unverifiable package never comes out of
 * here; with `false` it does, as an `unsigned` identity, so operators who turn
 * verification off get exactly that and nothing that looks attested.
 */
import { ForgeError, type PluginIdentity } from '@forgeone/common';
import { DEFAULT_PACKAGE_LIMITS, readPackage, type PackageInMemory, type PackageLimits } from '../loader/index.js';
import type { SignerPolicy } from './policy.js';
import type { TrustStore } from './trust-store.js';
import { verifyPackage, type PackageVerification } from './verify.js';

/** The publisher of a plugin whose package was not verified. */
export const UNSIGNED_PUBLISHER = 'unsigned';

/** What every {@link OpenPackageOptions} may set, whether or not signatures are required. */
export interface OpenPackageBaseOptions {
  /** Default: one signature from any publisher the trust store trusts. */
  readonly policy?: SignerPolicy;
  /** Limits for reading the package. Default: the built-in package limits. */
  readonly limits?: PackageLimits;
  /** Verification time, ms since the epoch. Default: now. */
  readonly now?: number;
}

/**
 * Options for {@link openVerifiedPackage}. With `verifySignatures: false`, a trust
 * store is optional: when given, a package that verifies still gets its attested
 * identity, and one that does not is opened as unsigned, its failure reported in
 * `verificationError`.
 */
export type OpenPackageOptions =
  | (OpenPackageBaseOptions & { readonly verifySignatures: true; readonly trustStore: TrustStore })
  | (OpenPackageBaseOptions & { readonly verifySignatures: false; readonly trustStore?: TrustStore });

/** An opened package and the plugin identity that everything after it uses. */
export interface OpenedPackage {
  readonly contents: PackageInMemory;
  readonly identity: PluginIdentity;
  /** The verification, when one succeeded. */
  readonly verification: PackageVerification | undefined;
  /** Why verification failed, when it was attempted and `verifySignatures` is false. */
  readonly verificationError: ForgeError | undefined;
}

function unsigned(contents: PackageInMemory): PluginIdentity {
  return { publisher: UNSIGNED_PUBLISHER, name: contents.manifest.name, version: contents.manifest.version, digest: contents.digest, attested: false };
}

/**
 * Reads a package and establishes the plugin's identity.
 *
 * @param source a file path or the package bytes
 * @throws ForgeError every FO_PACKAGE_* and FO_MANIFEST_* code of readPackage; with
 *   `verifySignatures: true`, every code of verifyPackage (FO_VERIFY_UNSIGNED for a
 *   package without signatures)
 */
export async function openVerifiedPackage(source: string | Uint8Array, options: OpenPackageOptions): Promise<OpenedPackage> {
  const contents = await readPackage(source, options.limits ?? DEFAULT_PACKAGE_LIMITS);
  const verifyOptions = (store: TrustStore): Parameters<typeof verifyPackage>[1] => ({
    trustStore: store,
    ...(options.policy === undefined ? {} : { policy: options.policy }),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  if (options.verifySignatures) {
    const verification = verifyPackage(contents, verifyOptions(options.trustStore));
    return { contents, identity: verification.identity, verification, verificationError: undefined };
  }
  if (options.trustStore === undefined) return { contents, identity: unsigned(contents), verification: undefined, verificationError: undefined };
  try {
    const verification = verifyPackage(contents, verifyOptions(options.trustStore));
    return { contents, identity: verification.identity, verification, verificationError: undefined };
  } catch (error) {
    if (!(error instanceof ForgeError)) throw error;
    return { contents, identity: unsigned(contents), verification: undefined, verificationError: error };
  }
}
