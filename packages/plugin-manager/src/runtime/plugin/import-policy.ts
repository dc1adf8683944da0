import { CallCatalog, WASI_MODULE, matchesCallPattern } from '@forgeone/microkernel';
import type { Permissions } from '../../plugin/index.js';
import type { ExternKind } from '../wasm/index.js';

/** The import module of the forge/1 host functions. */
const FORGE_MODULE = 'forge';

/**
 * Which imports a plugin's signed permissions allow, following the call catalog's
 * requirements (docs/policy.md): calls that need nothing are always importable; path
 * calls need `filesystem` read or write; network calls need `network` connect; every
 * other `forge.*` call must be listed in `syscalls` (or `forge.*`). Any call listed in
 * `syscalls` is importable. Only functions from `wasi_snapshot_preview1` and `forge`
 * are ever allowed: no other modules, no imported memories, tables or globals.
 *
 * Allowing an import is not allowing every call: each call is still decided by policy.
 */
export function importPolicy(permissions: Permissions, catalog: CallCatalog = new CallCatalog()): (module: string, name: string, kind: ExternKind) => boolean {
  return (module, name, kind) => {
    if (kind !== 'function' || (module !== WASI_MODULE && module !== FORGE_MODULE)) return false;
    const call = `${module}.${name}`;
    if (permissions.syscalls.some((pattern) => matchesCallPattern(pattern, call))) return true;
    const spec = catalog.get(call);
    if (spec === undefined) return false;
    switch (spec.requires) {
      case 'none':
        return true;
      case 'fs-read':
        return permissions.filesystem.includes('read');
      case 'fs-write':
        return permissions.filesystem.includes('write');
      case 'network':
        return permissions.network.includes('connect');
      case 'explicit':
        return false;
    }
  };
}
