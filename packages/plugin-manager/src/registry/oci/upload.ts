/**
 * Blob uploads (distribution spec "push"): HEAD first to skip a blob the repository
 * already has, a cross-repository mount when a source repository is named, then a
 * monolithic POST + PUT, or a chunked POST + PATCH... + PUT with Content-Range (chunks.ts
 * recovers a chunked upload the registry lost track of).
 */
import type { OciClient } from './client.js';
import { locationOf, sendChunks } from './chunks.js';
import { digestOf } from './manifest.js';

/** How one blob goes up. */
export interface BlobUploadOptions {
  /** Split uploads larger than this many bytes into PATCH chunks of this size. Default: never (monolithic). */
  readonly chunkSize?: number;
  /** A repository on the same registry that may already hold the blob: tried as a cross-repository mount first. */
  readonly mountFrom?: string;
  /** Called after each part is sent, with bytes sent and the total. */
  readonly onProgress?: (sent: number, total: number) => void;
}

/** How a blob reached the registry. */
export type BlobUploadOutcome = 'existed' | 'mounted' | 'uploaded';

/** `location` with `digest=<digest>` added to its query. */
function withDigest(location: string, digest: string): string {
  return `${location}${location.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`;
}

/**
 * Uploads `bytes` as a blob of `repository` unless it is there already.
 * @returns how the blob got there
 * @throws ForgeError every FO_OCI_* transport and status code of {@link OciClient.send}
 */
export async function uploadBlob(client: OciClient, repository: string, bytes: Uint8Array, options: BlobUploadOptions = {}): Promise<BlobUploadOutcome> {
  const digest = digestOf(bytes);
  const scope = options.mountFrom === undefined ? `repository:${repository}:pull,push` : `repository:${repository}:pull,push repository:${options.mountFrom}:pull`;
  const what = `blob ${digest} in ${repository}`;
  const head = await client.send({ method: 'HEAD', path: `/v2/${repository}/blobs/${digest}`, scope, what, accept: [200, 404] });
  if (head.status === 200) {
    options.onProgress?.(bytes.byteLength, bytes.byteLength);
    return 'existed';
  }
  const start = new URLSearchParams();
  if (options.mountFrom !== undefined) {
    start.set('mount', digest);
    start.set('from', options.mountFrom);
  }
  const query = start.size === 0 ? '' : `?${start.toString()}`;
  const opened = await client.send({ method: 'POST', path: `/v2/${repository}/blobs/uploads/${query}`, scope, what, accept: [201, 202] });
  await opened.body?.cancel();
  if (opened.status === 201) {
    // 201 Created on a mount request: the registry linked the blob from the other repository.
    options.onProgress?.(bytes.byteLength, bytes.byteLength);
    return 'mounted';
  }
  let location = locationOf(opened, what);
  const chunkSize = options.chunkSize ?? Number.POSITIVE_INFINITY;
  if (bytes.byteLength <= chunkSize) {
    const done = await client.send({
      method: 'PUT',
      path: withDigest(location, digest),
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
      scope,
      what,
      accept: [201],
    });
    await done.body?.cancel();
    options.onProgress?.(bytes.byteLength, bytes.byteLength);
    return 'uploaded';
  }
  location = await sendChunks(client, { repository, scope, what, bytes, chunkSize, onProgress: options.onProgress }, location);
  const closed = await client.send({ method: 'PUT', path: withDigest(location, digest), scope, what, accept: [201] });
  await closed.body?.cancel();
  return 'uploaded';
}
