import { createHash } from 'node:crypto';
import { canonicalJson } from '@forgeone/common';

/** A file in a package with its size in bytes and lowercase hex sha256. */
export interface PackageFile {
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
}

/** `sha256:<hex>` of some bytes. */
export function sha256Digest(data: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/**
 * The package's content digest: sha256 over the canonical JSON object mapping every
 * signed file's path (everything outside attestations/) to its sha256 hex. Adding a
 * signature does not change it; changing, adding or removing any other file does.
 * It is the `digest` of the plugin's identity.
 */
export function contentDigest(files: readonly PackageFile[]): string {
  const map: Record<string, string> = {};
  for (const file of files) if (!file.path.startsWith('attestations/')) map[file.path] = file.sha256;
  return sha256Digest(canonicalJson(map));
}
