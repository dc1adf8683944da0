/**
 * The ceiling: what a plugin's signed manifest declares it may do. Nothing an
 * operator grants or a policy permits can go beyond it. The shape is the manifest's
 * `permissions` table (docs/reference/manifest.md), so a validated manifest's
 * permissions are a ceiling as they are.
 */

/** A directory a plugin asks to see, by name; the operator maps it to a host directory. */
export interface VolumeRequest {
  readonly name: string;
  /** Absolute guest path, e.g. `/data`. */
  readonly path: string;
  readonly mode: 'ro' | 'rw';
}

/** A plugin's signed permissions. */
export interface Ceiling {
  readonly filesystem: readonly ('read' | 'write')[];
  readonly network: readonly 'connect'[];
  readonly allowed_hosts: readonly string[];
  readonly syscalls: readonly string[];
  readonly volumes: readonly VolumeRequest[];
}

/** The empty ceiling: a plugin that declares nothing may compute, log and read clocks. */
export const EMPTY_CEILING: Ceiling = { filesystem: [], network: [], allowed_hosts: [], syscalls: [], volumes: [] };

/** True when `name` matches a call pattern: exact, or `module.*`. */
export function matchesCallPattern(pattern: string, name: string): boolean {
  if (pattern.endsWith('.*')) return name.startsWith(pattern.slice(0, -1));
  return pattern === name;
}

/**
 * True when `host` (`name` or `name:port`) matches `pattern`: an exact name, or
 * `*.domain` for any subdomain (not the domain itself), with an optional `:port` that
 * must then match too. Comparison ignores letter case.
 */
export function matchesHostPattern(pattern: string, host: string): boolean {
  const [patternName, patternPort] = splitPort(pattern.toLowerCase());
  const [hostName, hostPort] = splitPort(host.toLowerCase());
  if (patternPort !== undefined && patternPort !== hostPort) return false;
  if (patternName.startsWith('*.')) {
    const suffix = patternName.slice(1);
    return hostName.endsWith(suffix) && hostName.length > suffix.length;
  }
  return patternName === hostName;
}

function splitPort(host: string): [string, string | undefined] {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    const rest = host.slice(end + 1);
    return [host.slice(0, end + 1), rest.startsWith(':') ? rest.slice(1) : undefined];
  }
  const colon = host.lastIndexOf(':');
  return colon === -1 ? [host, undefined] : [host.slice(0, colon), host.slice(colon + 1)];
}

/**
 * The volume that contains a guest path, or undefined. Paths are compared as
 * normalised absolute paths: `/data` contains `/data` and `/data/x`, not `/database`.
 * A path with `.`/`..` components or without a leading `/` is in no volume.
 */
export function volumeOf(volumes: readonly VolumeRequest[], path: string): VolumeRequest | undefined {
  if (!path.startsWith('/') || /(^|\/)\.\.?(\/|$)/.test(path) || path.includes('\0')) return undefined;
  let best: VolumeRequest | undefined;
  for (const volume of volumes) {
    const root = volume.path.length > 1 && volume.path.endsWith('/') ? volume.path.slice(0, -1) : volume.path;
    const inside = path === root || path.startsWith(root === '/' ? '/' : `${root}/`);
    if (inside && (best === undefined || root.length > best.path.length)) best = volume;
  }
  return best;
}
