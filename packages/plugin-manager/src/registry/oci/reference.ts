/**
 * Registry references: `host[:port]/repository[:tag][@sha256:<hex>]`, the grammar of
 * the OCI distribution spec (repository components, tags, digests). The registry host
 * is always explicit: a bare `name:tag` would silently mean Docker Hub, and a plugin
 * fetched from a registry the operator did not name is a supply-chain hole.
 */
import { ForgeError, describeValue } from '@forgeone/common';

/** A parsed reference. Exactly one of `tag` and `digest` may be absent; both absent means tag `latest`. */
export interface OciReference {
  /** `host` or `host:port`, as written (lower case). */
  readonly registry: string;
  /** The repository path, e.g. `forgeone/hello`. */
  readonly repository: string;
  /** The tag, when one was given (or `latest` when neither tag nor digest was). */
  readonly tag: string | undefined;
  /** `sha256:<hex>`, when the reference pins one. */
  readonly digest: string | undefined;
}

const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const REPOSITORY = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;
/** The distribution spec caps a repository name at 255 characters including the host. */
const MAX_NAME = 255;

function bad(text: string, expected: string): ForgeError {
  return new ForgeError('FO_OCI_BAD_REFERENCE', `registry reference ${describeValue(text)}: expected ${expected}`, { details: { reference: text } });
}

/** True when `host` names this machine (localhost, 127.0.0.0/8, ::1): the registries plain HTTP is used for by default. */
export function isLoopbackHost(registry: string): boolean {
  const host = registry.startsWith('[') ? registry.slice(1, registry.indexOf(']')) : registry.replace(/:[0-9]+$/, '');
  return host === 'localhost' || host === '::1' || /^127\.[0-9]+\.[0-9]+\.[0-9]+$/.test(host);
}

/**
 * Parses `host[:port]/repository[:tag][@sha256:<hex>]`.
 * @throws ForgeError FO_OCI_BAD_REFERENCE naming the part that is wrong
 */
export function parseReference(text: string): OciReference {
  if (text.length > 1024) throw bad(text.slice(0, 64), 'at most 1024 characters');
  const slash = text.indexOf('/');
  if (slash <= 0) throw bad(text, 'host[:port]/repository[:tag][@sha256:<hex>] with an explicit registry host (there is no default registry)');
  const registry = text.slice(0, slash).toLowerCase();
  if (!HOST.test(registry) || !(registry.includes('.') || registry.includes(':') || registry === 'localhost')) {
    throw bad(text, `a registry host (with a dot, a port or "localhost") before the first "/", found ${describeValue(registry)}`);
  }
  let rest = text.slice(slash + 1);
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad(text, `a digest sha256:<64 lower-case hex digits> after "@", found ${describeValue(digest)}`);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon !== -1) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(text, `a tag of [A-Za-z0-9_][A-Za-z0-9._-]{0,127}, found ${describeValue(tag)}`);
  }
  if (!REPOSITORY.test(rest)) throw bad(text, `a repository of lower-case components separated by "/", found ${describeValue(rest)}`);
  if (registry.length + 1 + rest.length > MAX_NAME) throw bad(text, `a registry and repository of at most ${MAX_NAME} characters`);
  return { registry, repository: rest, tag: tag ?? (digest === undefined ? 'latest' : undefined), digest };
}

/** The tag or digest a manifest request names: the digest when pinned, else the tag. */
export function manifestTarget(ref: OciReference): string {
  return ref.digest ?? ref.tag ?? 'latest';
}

/** The reference back as text. */
export function formatReference(ref: OciReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag === undefined ? '' : `:${ref.tag}`}${ref.digest === undefined ? '' : `@${ref.digest}`}`;
}
