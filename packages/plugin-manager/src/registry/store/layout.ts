/**
 * Where everything lives under `plugin_directory` (docs/store.md):
 *
 * ```
 * <root>/
 *   .store/                      the store's own files (a plugin name never starts with ".")
 *     format.json                { "format": 1 }: refuses a layout this code does not know
 *     lock                       held while a process changes the store (lock.ts)
 *     recover                    present after a change was interrupted: the next one checks every plugin (recovery.ts)
 *     staging/<txn>/             new directories built here, then renamed into place
 *     trash/<txn>/               directories renamed out of place, then deleted
 *   <name>/
 *     state.json                 { current, previous }: replaced atomically (the switch)
 *     versions/<version>/        one installed version, never modified once in place
 *       package.forgepkg         the package exactly as verified
 *       files/...                its files, unpacked
 *       record.json              identity, digests, install time, approval
 *     data/<publisher key>/      each publisher's data (kv store), see data.ts; upgrades never touch it
 * ```
 *
 * staging/ and trash/ are on the same file system as the plugin directories, which is
 * what makes every change a single rename.
 */
import { join } from 'node:path';
import { ForgeError, describeValue } from '@forgeone/common';
import semver from 'semver';
import { PLUGIN_NAME } from '../../plugin/index.js';

/** The on-disk layout version written to `.store/format.json`. */
export const STORE_FORMAT = 1;

/** The store's own directory inside `plugin_directory`. */
export const META_DIR = '.store';

/** Paths of one store, computed from its root; no I/O. */
export class StoreLayout {
  constructor(readonly root: string) {}

  get meta(): string {
    return join(this.root, META_DIR);
  }
  get formatFile(): string {
    return join(this.meta, 'format.json');
  }
  get lockFile(): string {
    return join(this.meta, 'lock');
  }
  /** Present when a change may have been interrupted; see recovery.ts. */
  get recoverMark(): string {
    return join(this.meta, 'recover');
  }
  get staging(): string {
    return join(this.meta, 'staging');
  }
  get trash(): string {
    return join(this.meta, 'trash');
  }

  /** `<root>/<name>`: everything the store holds for one plugin. */
  plugin(name: string): string {
    return join(this.root, name);
  }
  state(name: string): string {
    return join(this.root, name, 'state.json');
  }
  versions(name: string): string {
    return join(this.root, name, 'versions');
  }
  version(name: string, version: string): string {
    return join(this.root, name, 'versions', version);
  }
  /** `<root>/<name>/data`: every publisher's data for plugins of this name (data.ts). */
  data(name: string): string {
    return join(this.root, name, 'data');
  }
}

/** Names of the entries inside one version directory. */
export const VERSION_ENTRIES = { package: 'package.forgepkg', files: 'files', record: 'record.json' } as const;

/** True for directory names under the root that can be plugins. */
export function isPluginName(name: string): boolean {
  return PLUGIN_NAME.test(name);
}

/**
 * Checks a plugin name before it becomes a path, so `../x` or `a/b` never reach the
 * file system.
 * @throws ForgeError FO_STORE_INVALID_NAME
 */
export function checkPluginName(name: string): void {
  if (!isPluginName(name)) {
    throw new ForgeError('FO_STORE_INVALID_NAME', `expected a plugin name (1-64 of a-z 0-9 . _ -, starting and ending with a letter or digit), found ${describeValue(name)}`, {
      details: { name },
    });
  }
}

/**
 * True when `version` is a semantic version usable as a directory name. Semver text
 * is made of `0-9 A-Z a-z . - +` only, so it cannot leave its directory; the length
 * cap keeps it under every file system's name limit.
 */
export function isVersionDirName(version: string): boolean {
  return version.length <= 200 && semver.valid(version) === version;
}
