/**
 * Referrers: the artifacts whose `subject` is a given manifest. The referrers API
 * (GET /v2/<name>/referrers/<digest>) when the registry has it; otherwise the
 * distribution spec's tag-schema fallback, an image index under the tag
 * `sha256-<hex>` that pushers keep up to date. Registries without the API (CNCF
 * distribution 2.8) answer 404 there.
 */
import { readCapped, type OciClient } from './client.js';
import { putManifest } from './remote.js';
import { INDEX_MEDIA_TYPE, encode, parseIndex, type Descriptor, type ImageIndex } from './manifest.js';

/** Largest referrers index read, in bytes. */
export const MAX_INDEX_SIZE = 1024 * 1024;

/** The fallback tag for `digest`: `sha256:<hex>` -> `sha256-<hex>`. */
export function fallbackTag(digest: string): string {
  return digest.replace(':', '-');
}

/**
 * The referrers of `subject` in `repository` (filtered by `artifactType` when given).
 * @throws ForgeError FO_OCI_PROTOCOL, FO_OCI_TOO_LARGE, and the client's codes
 */
export async function listReferrers(client: OciClient, repository: string, subject: string, artifactType?: string): Promise<readonly Descriptor[]> {
  const what = `referrers of ${subject}`;
  const query = artifactType === undefined ? '' : `?artifactType=${encodeURIComponent(artifactType)}`;
  const api = await client.send({ method: 'GET', path: `/v2/${repository}/referrers/${subject}${query}`, scope: `repository:${repository}:pull`, what, accept: [200, 404] });
  let index: ImageIndex | undefined;
  const type = (api.headers.get('content-type') ?? '').split(';')[0]?.trim();
  if (api.status === 200 && type === INDEX_MEDIA_TYPE) {
    index = parseIndex(await readCapped(api, MAX_INDEX_SIZE, what), what);
  } else {
    await api.body?.cancel();
    index = await readFallback(client, repository, subject);
  }
  const all = index?.manifests ?? [];
  return artifactType === undefined ? all : all.filter((entry) => entry.artifactType === artifactType);
}

async function readFallback(client: OciClient, repository: string, subject: string): Promise<ImageIndex | undefined> {
  const tag = fallbackTag(subject);
  const what = `referrers tag ${tag}`;
  // One GET that may answer 404 (no referrers yet), rather than HEAD then GET: one round trip fewer.
  const answer = await client.send({ method: 'GET', path: `/v2/${repository}/manifests/${tag}`, headers: { accept: INDEX_MEDIA_TYPE }, scope: `repository:${repository}:pull`, what, accept: [200, 404] });
  if (answer.status === 404) {
    await answer.body?.cancel();
    return undefined;
  }
  return parseIndex(await readCapped(answer, MAX_INDEX_SIZE, what), what);
}

/**
 * Records `referrer` (a manifest already pushed) as a referrer of `subject`: nothing to
 * do when the registry indexed it itself (it answered OCI-Subject), else the fallback
 * tag's index gains it. Read-modify-write: two pushers racing may lose one entry; the
 * spec offers no compare-and-swap here.
 */
export async function addReferrer(client: OciClient, repository: string, subject: string, referrer: Descriptor, subjectIndexed: boolean): Promise<void> {
  if (subjectIndexed) return;
  const current = await readFallback(client, repository, subject);
  const manifests = (current?.manifests ?? []).filter((entry) => entry.digest !== referrer.digest);
  const index: ImageIndex = { schemaVersion: 2, mediaType: INDEX_MEDIA_TYPE, manifests: [...manifests, referrer] };
  await putManifest(client, repository, fallbackTag(subject), encode(index), INDEX_MEDIA_TYPE);
}
