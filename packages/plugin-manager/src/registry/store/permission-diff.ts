/**
 * What a new version asks for beyond the installed one. Pure logic: the store calls
 * it on upgrade and refuses a widening without approval; the CLI and the daemon
 * render it.
 *
 * Entries are compared by what they allow, not by their text: `forge.kv_get` is
 * already covered by an installed `forge.*`, and `api.example.com` by
 * `*.example.com`, with the same matching rules the trust layer applies at call time
 * (microkernel trust/ceiling.ts). A new entry that nothing installed covers is a
 * widening; so is a new volume, a volume going from ro to rw, or `threads` turning on
 * (shared memories and atomic waits: a plugin that can block its thread). A volume moving to
 * another guest path is shown but is not a widening: the operator maps volumes by
 * name, so the plugin sees the same host directory with the same rights.
 */
import { matchesCallPattern, matchesHostPattern, type VolumeRequest } from '@forgeone/microkernel';
import type { Permissions } from '../../plugin/index.js';

/** Entries of one list that only one side has (by what they allow). */
export interface PermissionListChange {
  /** In the new permissions and not covered by the old: each one widens. */
  readonly added: readonly string[];
  /** In the old permissions and not covered by the new. */
  readonly removed: readonly string[];
}

/** A volume declared by both versions, with a different mode or path. */
export interface PermissionVolumeChange {
  readonly name: string;
  readonly from: VolumeRequest;
  readonly to: VolumeRequest;
}

/** The difference between two permission sets, old to new. JSON-safe. */
export interface PermissionDiff {
  readonly filesystem: PermissionListChange;
  readonly network: PermissionListChange;
  readonly allowed_hosts: PermissionListChange;
  readonly syscalls: PermissionListChange;
  readonly volumes: {
    readonly added: readonly VolumeRequest[];
    readonly removed: readonly VolumeRequest[];
    readonly changed: readonly PermissionVolumeChange[];
  };
  /** `permissions.threads` (absent means false) in the old and the new version. */
  readonly threads: { readonly from: boolean; readonly to: boolean };
  /** True when the new permissions allow anything the old ones did not. */
  readonly widens: boolean;
  /** One line per widening, e.g. `network: connect`, `volume data (/data): ro -> rw`. */
  readonly escalations: readonly string[];
  /** True when nothing at all differs. */
  readonly unchanged: boolean;
}

function splitPort(host: string): [string, string | undefined] {
  const lower = host.toLowerCase();
  if (lower.startsWith('[')) {
    const end = lower.indexOf(']') + 1;
    return [lower.slice(0, end), lower[end] === ':' ? lower.slice(end + 1) : undefined];
  }
  const colon = lower.lastIndexOf(':');
  return colon === -1 ? [lower, undefined] : [lower.slice(0, colon), lower.slice(colon + 1)];
}

/**
 * True when every host `wanted` can match is also matched by `granted`. An exact
 * name is asked of the trust layer's own matcher; a `*.domain` pattern is covered by
 * the same or a wider wildcard (`*.com` covers `*.example.com`) with a compatible port.
 */
export function hostPatternCovers(granted: string, wanted: string): boolean {
  const [wantedName, wantedPort] = splitPort(wanted);
  if (!wantedName.startsWith('*.')) return matchesHostPattern(granted, wanted);
  const [grantedName, grantedPort] = splitPort(granted);
  if (grantedPort !== undefined && grantedPort !== wantedPort) return false;
  if (!grantedName.startsWith('*.')) return false;
  const grantedSuffix = grantedName.slice(1);
  const wantedSuffix = wantedName.slice(1);
  return wantedSuffix === grantedSuffix || wantedSuffix.endsWith(grantedSuffix);
}

/** True when every call `wanted` names (a call or `module.*`) is allowed by `granted`. */
export function callPatternCovers(granted: string, wanted: string): boolean {
  return matchesCallPattern(granted, wanted);
}

function listChange(before: readonly string[], after: readonly string[], covers: (granted: string, wanted: string) => boolean): PermissionListChange {
  return {
    added: after.filter((entry) => !before.some((granted) => covers(granted, entry))),
    removed: before.filter((entry) => !after.some((granted) => covers(granted, entry))),
  };
}

const same = (granted: string, wanted: string): boolean => granted === wanted;

/** The difference from the installed version's permissions (`before`) to the new ones (`after`). */
export function diffPermissions(before: Permissions, after: Permissions): PermissionDiff {
  const filesystem = listChange(before.filesystem, after.filesystem, same);
  const network = listChange(before.network, after.network, same);
  const allowedHosts = listChange(before.allowed_hosts, after.allowed_hosts, hostPatternCovers);
  const syscalls = listChange(before.syscalls, after.syscalls, callPatternCovers);
  const oldVolumes = new Map(before.volumes.map((volume) => [volume.name, volume]));
  const newVolumes = new Map(after.volumes.map((volume) => [volume.name, volume]));
  const volumes = {
    added: after.volumes.filter((volume) => !oldVolumes.has(volume.name)),
    removed: before.volumes.filter((volume) => !newVolumes.has(volume.name)),
    changed: after.volumes.flatMap((to) => {
      const from = oldVolumes.get(to.name);
      return from !== undefined && (from.mode !== to.mode || from.path !== to.path) ? [{ name: to.name, from, to }] : [];
    }),
  };
  const threads = { from: before.threads === true, to: after.threads === true };
  const escalations = [
    ...filesystem.added.map((mode) => `filesystem: ${mode}`),
    ...network.added.map((mode) => `network: ${mode}`),
    ...allowedHosts.added.map((host) => `allowed_hosts: ${host}`),
    ...syscalls.added.map((call) => `syscalls: ${call}`),
    ...volumes.added.map((volume) => `volume ${volume.name} (${volume.path}, ${volume.mode})`),
    ...volumes.changed.filter((change) => change.from.mode === 'ro' && change.to.mode === 'rw').map((change) => `volume ${change.name} (${change.to.path}): ro -> rw`),
    ...(threads.to && !threads.from ? ['threads: true'] : []),
  ];
  const lists = [filesystem, network, allowedHosts, syscalls];
  const unchanged =
    lists.every((list) => list.added.length === 0 && list.removed.length === 0) &&
    volumes.added.length === 0 &&
    volumes.removed.length === 0 &&
    volumes.changed.length === 0 &&
    threads.from === threads.to;
  return { filesystem, network, allowed_hosts: allowedHosts, syscalls, volumes, threads, widens: escalations.length > 0, escalations, unchanged };
}

/**
 * The diff as lines for a person: `+ ` widens, `- ` narrows, `~ ` changes without
 * widening (a volume moved, or rw -> ro). Values are plugin-supplied: a terminal
 * caller must still sanitise them.
 */
export function renderPermissionDiff(diff: PermissionDiff): string[] {
  const lines: string[] = [];
  const list = (label: string, change: PermissionListChange): void => {
    for (const entry of change.added) lines.push(`+ ${label}: ${entry}`);
    for (const entry of change.removed) lines.push(`- ${label}: ${entry}`);
  };
  list('filesystem', diff.filesystem);
  list('network', diff.network);
  list('allowed_hosts', diff.allowed_hosts);
  list('syscalls', diff.syscalls);
  for (const volume of diff.volumes.added) lines.push(`+ volume ${volume.name} (${volume.path}, ${volume.mode})`);
  for (const volume of diff.volumes.removed) lines.push(`- volume ${volume.name} (${volume.path}, ${volume.mode})`);
  for (const { name, from, to } of diff.volumes.changed) {
    const widening = from.mode === 'ro' && to.mode === 'rw';
    const parts = [...(from.mode === to.mode ? [] : [`${from.mode} -> ${to.mode}`]), ...(from.path === to.path ? [] : [`path ${from.path} -> ${to.path}`])];
    lines.push(`${widening ? '+' : '~'} volume ${name}: ${parts.join(', ')}`);
  }
  if (diff.threads.from !== diff.threads.to) lines.push(`${diff.threads.to ? '+' : '-'} threads`);
  return lines;
}
