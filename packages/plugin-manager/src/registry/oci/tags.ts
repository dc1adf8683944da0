/**
 * The tags of a repository (GET /v2/<name>/tags/list), following `Link: <...>; rel="next"`
 * pages up to a bound, each page read under a cap.
 */
import { ForgeError } from '@forgeone/common';
import { readCapped, type OciClient } from './client.js';

/** Largest tag page read, in bytes. */
const MAX_PAGE = 1024 * 1024;
/** Most pages followed. */
const MAX_PAGES = 10;

/**
 * Every tag of `repository`, up to {@link MAX_PAGES} pages.
 * @throws ForgeError FO_OCI_NOT_FOUND (no such repository), FO_OCI_PROTOCOL, FO_OCI_TOO_LARGE, and the client's codes
 */
export async function listTags(client: OciClient, repository: string): Promise<string[]> {
  const tags: string[] = [];
  let path: string | undefined = `/v2/${repository}/tags/list`;
  for (let page = 0; path !== undefined && page < MAX_PAGES; page += 1) {
    const what = `tags of ${repository}`;
    const response = await client.send({ method: 'GET', path, scope: `repository:${repository}:pull`, what });
    let parsed: unknown;
    try {
      parsed = JSON.parse((await readCapped(response, MAX_PAGE, what)).toString('utf8'));
    } catch (error) {
      if (error instanceof ForgeError) throw error;
      throw new ForgeError('FO_OCI_PROTOCOL', `${what}: expected JSON, found bytes that do not parse`, { details: { repository }, cause: error });
    }
    const list = (parsed as { tags?: unknown }).tags;
    if (list !== null && list !== undefined && (!Array.isArray(list) || list.some((tag) => typeof tag !== 'string'))) {
      throw new ForgeError('FO_OCI_PROTOCOL', `${what}: expected "tags" to be an array of strings`, { details: { repository } });
    }
    tags.push(...((list ?? []) as string[]));
    const next = /<([^>]+)>\s*;\s*rel="?next"?/.exec(response.headers.get('link') ?? '');
    path = next?.[1];
  }
  return tags;
}
