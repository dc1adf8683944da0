/**
 * Reading and writing manifests and blobs on a registry, with the checks a puller owes
 * itself: a manifest pulled by digest hashes to it, a blob hashes to its descriptor's
 * digest and has its size, and nothing is read past its cap.
 */
import { createHash } from 'node:crypto';
import { ForgeError } from '@forgeone/common';
import { readCapped, type OciClient } from './client.js';
import { isRetryable } from './http-errors.js';
import { digestOf, type Descriptor } from './manifest.js';

/** A manifest as fetched. */
export interface FetchedManifest {
  readonly bytes: Buffer;
  /** `sha256:` of the bytes (always computed here, never taken from a header). */
  readonly digest: string;
  /** The Content-Type the registry gave. */
  readonly mediaType: string;
}

function mismatch(what: string, expected: string, found: string): ForgeError {
  return new ForgeError('FO_OCI_DIGEST_MISMATCH', `${what}: expected digest ${expected}, the bytes received hash to ${found}`, { details: { expected, actual: found } });
}

/**
 * GETs a manifest (tag or digest) of one of the `accept` media types, at most `limit` bytes.
 * @param expected the digest the bytes must hash to (when pulling by digest)
 * @throws ForgeError FO_OCI_DIGEST_MISMATCH, FO_OCI_TOO_LARGE, FO_OCI_NOT_FOUND, and the client's codes
 */
export async function fetchManifest(client: OciClient, repository: string, target: string, accept: readonly string[], limit: number, expected?: string): Promise<FetchedManifest> {
  const what = `manifest ${repository}:${target}`;
  const response = await client.send({ method: 'GET', path: `/v2/${repository}/manifests/${target}`, headers: { accept: accept.join(', ') }, scope: `repository:${repository}:pull`, what });
  const bytes = await readCapped(response, limit, what);
  const digest = digestOf(bytes);
  if (expected !== undefined && digest !== expected) throw mismatch(what, expected, digest);
  const mediaType = (response.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
  return { bytes, digest, mediaType };
}

/**
 * PUTs a manifest under `target` (a tag or its digest).
 * @returns its digest, and whether the registry said it indexed the subject (`OCI-Subject`)
 * @throws ForgeError FO_OCI_DIGEST_MISMATCH when the registry reports another digest, and the client's codes
 */
export async function putManifest(client: OciClient, repository: string, target: string, bytes: Uint8Array, mediaType: string): Promise<{ digest: string; subjectIndexed: boolean }> {
  const what = `manifest ${repository}:${target}`;
  const response = await client.send({
    method: 'PUT',
    path: `/v2/${repository}/manifests/${target}`,
    headers: { 'content-type': mediaType },
    body: bytes,
    scope: `repository:${repository}:pull,push`,
    what,
    accept: [201],
  });
  await response.body?.cancel();
  const digest = digestOf(bytes);
  const reported = response.headers.get('docker-content-digest');
  if (reported !== null && reported !== digest) throw mismatch(what, digest, reported);
  return { digest, subjectIndexed: response.headers.get('oci-subject') !== null };
}

/**
 * GETs the blob `descriptor` names, hashing while it streams: refused past
 * min(descriptor.size, limit) bytes, and unless its digest and size match.
 * A connection dropped mid-blob is retried from the start (the client's `retries` more times).
 * @throws ForgeError FO_OCI_TOO_LARGE, FO_OCI_DIGEST_MISMATCH, FO_OCI_CONNECTION_DROPPED, and the client's codes
 */
export async function fetchBlob(client: OciClient, repository: string, descriptor: Descriptor, limit: number, onProgress?: (received: number, total: number) => void): Promise<Buffer> {
  const retries = client.retries;
  const what = `blob ${descriptor.digest} of ${repository}`;
  if (descriptor.size > limit) {
    throw new ForgeError('FO_OCI_TOO_LARGE', `${what}: expected at most ${limit} bytes, its descriptor says ${descriptor.size}`, { details: { limit, actual: descriptor.size } });
  }
  for (let attempt = 0; ; attempt += 1) {
    const response = await client.send({ method: 'GET', path: `/v2/${repository}/blobs/${descriptor.digest}`, scope: `repository:${repository}:pull`, what });
    const hash = createHash('sha256');
    let received = 0;
    let bytes: Buffer;
    try {
      // SECURITY: the cap is the descriptor's size: a registry sending more is cut off there.
      bytes = await readCapped(response, descriptor.size, what, (chunk) => {
        hash.update(chunk);
        received += chunk.byteLength;
        onProgress?.(received, descriptor.size);
      });
    } catch (error) {
      if (error instanceof ForgeError && isRetryable(error) && attempt < retries) continue;
      throw error;
    }
    const digest = `sha256:${hash.digest('hex')}`;
    if (bytes.byteLength !== descriptor.size) {
      throw new ForgeError('FO_OCI_DIGEST_MISMATCH', `${what}: expected ${descriptor.size} bytes, received ${bytes.byteLength}`, { details: { expected: descriptor.size, actual: bytes.byteLength } });
    }
    if (digest !== descriptor.digest) throw mismatch(what, descriptor.digest, digest);
    return bytes;
  }
}
