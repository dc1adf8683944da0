/**
 * Where one pull's connections may go: the daemon's {@link ConnectionGuard} for the OCI
 * client. One is made per pull.
 *
 * SECURITY: every URL the client is about to request (the registry, a Bearer token realm,
 * each redirect hop of a blob) passes the pull policy: its `host[:port]` is listed in
 * `daemon.pull_registries`, or it is a public address / a name whose every address is
 * public. A host name is resolved once per pull (the answer is kept, {@link PullPins.resolve}),
 * checked, and the connection goes to the addresses checked, never resolved again: a DNS
 * server that answers a public address first and 127.0.0.1 next (rebinding) does not move
 * the connection. Refusals are FO_DAEMON_REGISTRY_NOT_ALLOWED naming the URL's host, so
 * an allowed registry cannot make the daemon send requests into its own network either.
 */
import { isIP } from 'node:net';
import { ForgeError } from '@forgeone/common';
import type { ConnectionGuard, PinnedAddress } from '@forgeone/plugin-manager';
import { isNonPublicRegistry, resolveAll, type ResolveAll } from './pull-policy.js';

/** The default port of an http(s) URL, for matching `host:port` entries. */
function withPort(url: URL): string {
  return url.port === '' ? `${url.hostname}:${url.protocol === 'https:' ? 443 : 80}` : url.host;
}

/** `address` as isNonPublicRegistry reads it (IPv6 in brackets). */
function asRegistry(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

/** See the module comment. */
export class PullPins {
  readonly #allowed: readonly string[];
  readonly #resolve: ResolveAll;
  /** Host name -> its one resolution for this pull. */
  readonly #answers = new Map<string, Promise<readonly string[]>>();

  /**
   * @param allowed daemon.pull_registries (`host[:port]`, lower case)
   * @param resolve how names are resolved (tests answer their own); default the system resolver
   */
  constructor(allowed: readonly string[], resolve: ResolveAll = resolveAll) {
    this.#allowed = allowed;
    this.#resolve = resolve;
  }

  /** Resolves `host` the first time it is asked during this pull, and answers that same resolution ever after. */
  readonly resolve: ResolveAll = (host) => {
    const key = host.toLowerCase();
    let answer = this.#answers.get(key);
    if (answer === undefined) {
      answer = this.#resolve(key);
      this.#answers.set(key, answer);
    }
    return answer;
  };

  /**
   * The guard the OCI client asks before each request (see the module comment).
   * @throws ForgeError FO_DAEMON_REGISTRY_NOT_ALLOWED with details.registry (the URL's host) and
   *   details.address; FO_OCI_UNREACHABLE when the name does not resolve
   */
  readonly guard: ConnectionGuard = async (url) => {
    const host = url.host.toLowerCase();
    const listed = this.#allowed.includes(host) || this.#allowed.includes(withPort(url).toLowerCase());
    const bare = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const family = isIP(bare);
    if (family !== 0) {
      if (!listed && isNonPublicRegistry(host)) throw refusal(host, `it is ${bare}, not a public address`, bare);
      return [{ address: bare, family: family === 6 ? 6 : 4 }];
    }
    if (!listed && isNonPublicRegistry(host)) throw refusal(host, 'it is not a public host name', null);
    let addresses: readonly string[];
    try {
      addresses = await this.resolve(bare);
    } catch (error) {
      throw new ForgeError('FO_OCI_UNREACHABLE', `cannot resolve ${host}: ${error instanceof Error ? error.message : String(error)}`, { details: { url: url.origin, errno: 'ENOTFOUND' } });
    }
    const inner = addresses.find((address) => isNonPublicRegistry(asRegistry(address)));
    if (!listed && (inner !== undefined || addresses.length === 0)) throw refusal(host, `it resolves to ${inner ?? 'no address'}, not a public address`, inner ?? null);
    return addresses.map((address): PinnedAddress => ({ address, family: isIP(address) === 6 ? 6 : 4 }));
  };
}

function refusal(host: string, why: string, address: string | null): ForgeError {
  return new ForgeError(
    'FO_DAEMON_REGISTRY_NOT_ALLOWED',
    `the daemon does not connect to ${host} for a pull (the registry, its token realm or a redirect): ${why}, and daemon.pull_registries does not list it`,
    { details: { registry: host, address } },
  );
}
