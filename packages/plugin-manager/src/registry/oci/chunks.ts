/**
 * The PATCH chunks of a chunked blob upload, and what happens when one fails after the
 * client's own retries (5xx, a dropped connection) or is refused because the registry
 * holds another part of the upload than the client thinks (416: it took part of a chunk
 * before the failure). The distribution spec's answer is to ask the upload's status (`GET`
 * on its location: 204 with `Range: 0-<last byte received>`) and go on from there. A
 * registry that cannot resume (CNCF distribution cancels an upload whose size no longer
 * matches its state: 404 or 400 on the next request) gets the upload started over with a
 * new POST. Both are bounded ({@link MAX_RECOVERIES}); the final PUT's digest check on the
 * registry and every pull's digest check make a lying status harmless to integrity.
 */
import { ForgeError } from '@forgeone/common';
import type { OciClient } from './client.js';

/** The Location header of an upload response: where the upload goes on. */
export function locationOf(response: Response, what: string): string {
  const location = response.headers.get('location');
  if (location === null || location === '') {
    throw new ForgeError('FO_OCI_PROTOCOL', `${what}: expected a Location header on HTTP ${response.status}, found none`, { details: { status: response.status } });
  }
  return location;
}

/** Recoveries (a resume or a new start) one chunked upload may make before its failure is final. */
export const MAX_RECOVERIES = 4;

/** One chunked upload. */
export interface ChunkedUpload {
  readonly repository: string;
  readonly scope: string;
  readonly what: string;
  readonly bytes: Uint8Array;
  readonly chunkSize: number;
  readonly onProgress?: ((sent: number, total: number) => void) | undefined;
}

/** A failure after which the upload's state is unknown or gone, but a fresh look may go on. */
function recoverable(error: unknown): boolean {
  if (!(error instanceof ForgeError)) return false;
  if (error.code === 'FO_OCI_SERVER_ERROR' || error.code === 'FO_OCI_CONNECTION_DROPPED' || error.code === 'FO_OCI_NOT_FOUND') return true;
  return error.code === 'FO_OCI_PROTOCOL' && (error.details['status'] === 416 || error.details['status'] === 400);
}

/**
 * Where the upload at `location` stands: its next location and the offset the registry
 * wants next, or undefined when the registry has no such upload any more.
 * @throws ForgeError FO_OCI_PROTOCOL when the status claims bytes that were never sent (`sent`)
 */
async function status(client: OciClient, upload: ChunkedUpload, location: string, sent: number): Promise<{ location: string; next: number } | undefined> {
  let response: Response;
  try {
    response = await client.send({ method: 'GET', path: location, scope: upload.scope, what: upload.what, accept: [204] });
  } catch (error) {
    if (recoverable(error)) return undefined;
    throw error;
  }
  await response.body?.cancel();
  const range = response.headers.get('range');
  const match = range === null ? null : /^(?:bytes=)?0-(\d{1,15})$/.exec(range);
  if (match === null) return undefined;
  const next = Number(match[1]) + 1;
  if (next > sent) {
    throw new ForgeError('FO_OCI_PROTOCOL', `${upload.what}: the upload's status claims ${next} bytes, but ${sent} were sent`, { details: { range, sent } });
  }
  return { location: locationOf(response, upload.what), next };
}

/** Starts the upload over: a new POST, its location. */
async function restart(client: OciClient, upload: ChunkedUpload): Promise<string> {
  const opened = await client.send({ method: 'POST', path: `/v2/${upload.repository}/blobs/uploads/`, scope: upload.scope, what: upload.what, accept: [202] });
  await opened.body?.cancel();
  return locationOf(opened, upload.what);
}

/**
 * Sends `upload.bytes` in PATCH chunks to the upload at `location`, resuming or starting
 * over after a recoverable failure (see the module comment).
 * @returns the location for the closing PUT
 * @throws ForgeError the last failure once {@link MAX_RECOVERIES} are spent, or one that is not recoverable
 */
export async function sendChunks(client: OciClient, upload: ChunkedUpload, location: string): Promise<string> {
  const { bytes, chunkSize } = upload;
  let recoveries = 0;
  let offset = 0;
  while (offset < bytes.byteLength) {
    const part = bytes.subarray(offset, Math.min(offset + chunkSize, bytes.byteLength));
    try {
      const sent = await client.send({
        method: 'PATCH',
        path: location,
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${offset + part.byteLength - 1}` },
        body: part,
        scope: upload.scope,
        what: upload.what,
        accept: [202],
      });
      await sent.body?.cancel();
      location = locationOf(sent, upload.what);
      offset += part.byteLength;
      upload.onProgress?.(offset, bytes.byteLength);
    } catch (error) {
      if (!recoverable(error) || recoveries >= MAX_RECOVERIES) throw error;
      recoveries += 1;
      const resumed = await status(client, upload, location, offset + part.byteLength);
      // A status pointing where this chunk already failed would only fail again: start over.
      if (resumed !== undefined && resumed.next !== offset) {
        ({ location, next: offset } = resumed);
      } else {
        location = await restart(client, upload);
        offset = 0;
      }
    }
  }
  return location;
}
