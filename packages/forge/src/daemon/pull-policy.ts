/**
 * Which registries the daemon pulls from (POST /v1/plugins/pull). Pure: a function of
 * the reference, the configured allow-list and the verified marketplace index.
 *
 * SECURITY: a reference sent by an API client makes the daemon open connections from
 * its own network position; left open, any admin token (or a dashboard session) could
 * aim it at 127.0.0.1, the cloud metadata service (169.254.169.254) or an internal
 * host, and read back what the error messages quote. So the daemon pulls only from a
 * registry the operator named: one listed in `daemon.pull_registries`, or one that a
 * version of the verified marketplace index names (the operator pinned that index's
 * root), and the latter only on a public host: an index, even signed, never takes the
 * daemon to localhost, a loopback, private, link-local, shared or multicast address.
 * A host name is resolved before the pull ({@link checkResolvesPublic}): a public-looking
 * name that resolves to an inner address is refused too. The pull's connections (its
 * token realm and redirects included) then go only to addresses checked by the same
 * rules, from that one resolution (pull-pins.ts): an answer that changes afterwards (DNS
 * rebinding) moves nothing.
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { ForgeError } from '@forgeone/common';
import type { OciReference } from '@forgeone/plugin-manager';
import type { MarketplaceIndex } from '@forgeone/plugin-manager/marketplace';

/** Addresses that are not the public internet (RFC 6890 and friends); BlockList checks an IPv4-mapped IPv6 address against the IPv4 rules. */
const NON_PUBLIC = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const) {
  NON_PUBLIC.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 127],
  ['64:ff9b::', 96],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  NON_PUBLIC.addSubnet(network, prefix, 'ipv6');
}

/**
 * True when `registry` (`host[:port]`) is this machine or a non-public address, in any
 * spelling the URL parser that fetch uses accepts (`2130706433`, `0x7f.1`, `[::ffff:127.0.0.1]`).
 */
export function isNonPublicRegistry(registry: string): boolean {
  let host: string;
  try {
    host = new URL(`http://${registry}/`).hostname;
  } catch {
    return true;
  }
  const bare = host.startsWith('[') ? host.slice(1, -1) : host;
  const family = isIP(bare);
  if (family === 0) return bare === 'localhost' || bare.endsWith('.localhost') || !bare.includes('.');
  return NON_PUBLIC.check(bare, family === 4 ? 'ipv4' : 'ipv6');
}

/** The registry (`host[:port]`) of an index version's `oci` reference. */
function registryOf(oci: string): string {
  return oci.slice(0, oci.indexOf('/')).toLowerCase();
}

/**
 * Refuses a pull from a registry the operator did not name (see the module comment).
 * @throws ForgeError FO_DAEMON_REGISTRY_NOT_ALLOWED with details.registry
 */
export function checkPullAllowed(ref: OciReference, allowed: readonly string[], index: MarketplaceIndex | undefined): void {
  const registry = ref.registry.toLowerCase();
  if (allowed.includes(registry)) return;
  const named = index?.plugins.some((entry) => entry.versions.some((version) => registryOf(version.oci) === registry)) === true;
  if (named && !isNonPublicRegistry(registry)) return;
  throw new ForgeError(
    'FO_DAEMON_REGISTRY_NOT_ALLOWED',
    named
      ? `the daemon does not pull from ${registry}: the marketplace index names it, but it is not a public address; list it in daemon.pull_registries to allow it`
      : `the daemon does not pull from ${registry}: expected a registry in daemon.pull_registries (${allowed.length === 0 ? 'empty' : allowed.join(', ')}) or one the verified marketplace index names`,
    { details: { registry } },
  );
}

/** Every address a host name resolves to. */
export type ResolveAll = (host: string) => Promise<readonly string[]>;

/** The system resolver (getaddrinfo, as fetch's connections use), every address. */
export const resolveAll: ResolveAll = async (host) => (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);

/**
 * Refuses a registry named by host name (not listed in `allowed`) when any address it
 * resolves to is not public: the index's names are checked as spelled by
 * {@link checkPullAllowed}, and this checks where they lead. `docker.io` is checked as
 * `registry-1.docker.io`, where the client connects.
 * @throws ForgeError FO_DAEMON_REGISTRY_NOT_ALLOWED with details.registry and details.address;
 *   FO_OCI_UNREACHABLE when the name does not resolve
 */
export async function checkResolvesPublic(ref: OciReference, allowed: readonly string[], resolve: ResolveAll = resolveAll): Promise<void> {
  const registry = ref.registry.toLowerCase();
  if (allowed.includes(registry)) return;
  const host = new URL(`http://${registry === 'docker.io' ? 'registry-1.docker.io' : registry}/`).hostname;
  if (isIP(host.startsWith('[') ? host.slice(1, -1) : host) !== 0) return; // an address: checkPullAllowed judged it as written
  let addresses: readonly string[];
  try {
    addresses = await resolve(host);
  } catch (error) {
    throw new ForgeError('FO_OCI_UNREACHABLE', `cannot resolve the registry ${registry}: ${error instanceof Error ? error.message : String(error)}`, { details: { registry } });
  }
  const inner = addresses.find((address) => isNonPublicRegistry(address.includes(':') ? `[${address}]` : address));
  if (inner !== undefined || addresses.length === 0) {
    throw new ForgeError(
      'FO_DAEMON_REGISTRY_NOT_ALLOWED',
      `the daemon does not pull from ${registry}: it resolves to ${inner ?? 'no address'}, not a public address; list it in daemon.pull_registries to allow it`,
      { details: { registry, address: inner ?? null } },
    );
  }
}
