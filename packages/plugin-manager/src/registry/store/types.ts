/**
 * What the store reports: installed plugins and versions with their identities and
 * paths, and the outcomes of install and uninstall. JSON-safe (no methods).
 */
import type { PluginIdentity } from '@forgeone/common';
import type { PackageFile } from '../../loader/index.js';
import type { Manifest } from '../../plugin/index.js';
import type { PermissionDiff } from './permission-diff.js';

/** Options for `PluginStore.install`. All default to false. */
export interface InstallOptions {
  /** Accept a new version that asks for more permissions than the installed one. */
  readonly approvePermissions?: boolean;
  /** Accept a version older than the installed one. */
  readonly allowDowngrade?: boolean;
  /** Accept a new version signed by another publisher than the installed one. */
  readonly allowPublisherChange?: boolean;
  /**
   * Called with the package's verified identity before anything is written (the daemon
   * checks its marketplace's revocations here); what it throws refuses the install,
   * audited as a refused `store.install` like the store's own refusals.
   */
  readonly admit?: (identity: PluginIdentity) => void;
}

/** Paths of one installed version. */
export interface VersionPaths {
  /** `<name>/versions/<version>`. */
  readonly dir: string;
  /** The package file as verified. */
  readonly package: string;
  /** The unpacked files (manifest.json, the module, assets/...). */
  readonly files: string;
}

/** One installed version of a plugin, from its record. */
export interface InstalledVersion {
  readonly version: string;
  readonly identity: PluginIdentity;
  /** When it was installed, ISO 8601. */
  readonly installedAt: string;
  /** `sha256:<hex>` of the package file, and its size in bytes. */
  readonly packageSha256: string;
  readonly packageSize: number;
  readonly manifestDigest: string;
  readonly files: readonly PackageFile[];
  /** The permissions the operator approved beyond the version before it; undefined when none were needed. */
  readonly approvedEscalations: readonly string[] | undefined;
  readonly paths: VersionPaths;
}

/** An installed plugin: its current version, the one kept for rollback, and where things are. */
export interface InstalledPlugin {
  readonly name: string;
  /** The current version. */
  readonly version: string;
  readonly identity: PluginIdentity;
  /** When the current version was installed, ISO 8601. */
  readonly installedAt: string;
  /** When the current version became current, ISO 8601. */
  readonly switchedAt: string;
  /** The current version's manifest. */
  readonly manifest: Manifest;
  readonly current: InstalledVersion;
  /** The version a rollback returns to, if any. */
  readonly previous: InstalledVersion | undefined;
  readonly paths: VersionPaths & {
    /** `<plugin_directory>/<name>`. */
    readonly root: string;
    /**
     * `<name>/data` (mode 0700): what plugins of this name keep, one directory per
     * publisher (`dataDirectory`); upgrades and rollbacks never touch it.
     */
    readonly data: string;
    /** The current version's entry module. */
    readonly module: string;
  };
}

/** What `PluginStore.install` did. */
export interface InstallResult {
  /** `unchanged`: the same version with the same content was already current. */
  readonly action: 'installed' | 'upgraded' | 'downgraded' | 'unchanged';
  readonly plugin: InstalledPlugin;
  /** The version that was current before, for upgrades and downgrades. */
  readonly from: string | undefined;
  /** The permission difference from the version before, for upgrades and downgrades. */
  readonly diff: PermissionDiff | undefined;
}

/** What `PluginStore.uninstall` removed. */
export interface UninstallResult {
  readonly name: string;
  /** The current version, or undefined when the plugin's state was unreadable. */
  readonly version: string | undefined;
}
