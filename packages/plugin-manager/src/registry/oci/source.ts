/**
 * Where a pull reads an artifact from: a registry repository, or an OCI image layout on
 * disk. Both answer the same three questions under the same rules (digests checked, reads
 * capped), so the pull pipeline is written once.
 */
import type { OciClient } from './client.js';
import { MANIFEST_MEDIA_TYPE, type Descriptor } from './manifest.js';
import { listReferrers } from './referrers.js';
import { fetchBlob, fetchManifest } from './remote.js';

/** An artifact store a pull reads from. */
export interface ArtifactSource {
  /**
   * The image manifest under `target` (a tag or a digest), at most `limit` bytes, hashing to
   * `expected` when given.
   * @returns its bytes and their digest (computed, never taken from the source)
   */
  manifest(target: string, limit: number, expected?: string): Promise<{ bytes: Buffer; digest: string }>;
  /** The blob `descriptor` names, refused unless it has its size (at most `limit`) and digest. */
  blob(descriptor: Descriptor, limit: number, onProgress?: (received: number, total: number) => void): Promise<Buffer>;
  /** The descriptors of manifests of `artifactType` whose subject is `subject`. */
  referrers(subject: string, artifactType: string): Promise<readonly Descriptor[]>;
}

/** A repository of a registry, through `client`. */
export function registrySource(client: OciClient, repository: string): ArtifactSource {
  return {
    manifest: (target, limit, expected) => fetchManifest(client, repository, target, [MANIFEST_MEDIA_TYPE], limit, expected),
    blob: (descriptor, limit, onProgress) => fetchBlob(client, repository, descriptor, limit, onProgress),
    referrers: (subject, artifactType) => listReferrers(client, repository, subject, artifactType),
  };
}
