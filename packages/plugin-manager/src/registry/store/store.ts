/**
 * The plugin store: installed plugins under `plugin_directory` (layout in layout.ts,
 * guarantees in docs/store.md). Every change (install, upgrade, uninstall, rollback)
 * runs under the store lock, builds in staging and takes effect with one rename, so
 * a process killed at any point leaves the old state or the new one; the next change
 * (or open) removes what it left behind. Reading takes no lock.
 */
import { join } from 'node:path';
import { ForgeError, silentLogger, toForgeError, type Logger, type PluginIdentity } from '@forgeone/common';
import { openVerifiedPackage, type OpenPackageOptions } from '../../attestation/index.js';
import { DEFAULT_PACKAGE_LIMITS, type PackageLimits } from '../../loader/index.js';
import { DEFAULT_MAX_PLUGINS, type PluginStoreOptions } from './options.js';
import { LoadAttempt, auditRefusal } from '../load-refusal.js';
import { migrateLegacyData } from './data.js';
import { removeTree, renameDurable, replaceFileAtomic, transactionId } from './durable.js';
import { STATE_MODE, installNew, installOver, type InstallContext } from './install.js';
import { checkVersion, integrityError, type IntegrityProblem } from './integrity.js';
import { STORE_FORMAT, StoreLayout, checkPluginName, isVersionDirName } from './layout.js';
import { StoreLock } from './lock.js';
import { LIST_CONCURRENCY, StoreReader, corrupt, mapConcurrently, notInstalled } from './reader.js';
import { prepareStoreDirectory } from './prepare.js';
import { storeJson, type StateFile } from './records.js';
import { discardStaged, markForRecovery, recoverBefore } from './recovery.js';
import { readPackageSource } from './source.js';
import type { StoreOperation, StoreStep } from './steps.js';
import type { InstallOptions, InstallResult, InstalledPlugin, UninstallResult } from './types.js';

/** The installed plugins under one `plugin_directory`. Create with {@link PluginStore.open}. */
export class PluginStore {
  readonly #layout: StoreLayout;
  readonly #reader: StoreReader;
  readonly #options: PluginStoreOptions;
  readonly #limits: PackageLimits;
  readonly #logger: Logger;
  /** Changes through this object run one at a time instead of failing on its own lock. */
  #tail: Promise<unknown> = Promise.resolve();
  #recovered: readonly string[] = [];
  #migrated: readonly string[] = [];

  private constructor(options: PluginStoreOptions) {
    this.#layout = new StoreLayout(options.directory);
    this.#reader = new StoreReader(this.#layout);
    this.#options = options;
    this.#limits = options.limits ?? options.verification?.limits ?? DEFAULT_PACKAGE_LIMITS;
    this.#logger = options.logger ?? silentLogger;
  }

  /**
   * Opens (creating if needed) the store at `options.directory` and, unless another
   * process is changing it right now or it is on a read-only mount, removes what
   * interrupted changes left behind.
   *
   * @throws ForgeError FO_STORE_CORRUPT when the directory holds a store of another
   *   layout version, FO_IO_*
   */
  static async open(options: PluginStoreOptions): Promise<PluginStore> {
    const store = new PluginStore(options);
    await store.#prepare();
    return store;
  }

  /** `plugin_directory`. */
  get directory(): string {
    return this.#layout.root;
  }

  /** The leftovers removed when this store was opened, as paths. */
  get recovered(): readonly string[] {
    return this.#recovered;
  }

  /** The data directories that data from before data was kept per publisher was moved into when this store was opened. */
  get migrated(): readonly string[] {
    return this.#migrated;
  }

  async #prepare(): Promise<void> {
    const layout = this.#layout;
    await prepareStoreDirectory(layout);
    // Recovery needs the lock; when someone holds it, their own change recovers first.
    await this.#serial(async () => {
      let lock: StoreLock;
      try {
        lock = await StoreLock.acquire(layout.lockFile, { operation: 'open', onBreak: () => markForRecovery(this.#layout) });
      } catch (error) {
        // On a read-only or full file system (no room for the lock file) nothing can change, and
        // leftovers are outside what readers follow: the store opens for reading; each change
        // recovers under the lock first, or fails FO_IO_READ_ONLY or FO_IO_NO_SPACE.
        if (ForgeError.is(error, 'FO_STORE_LOCKED') || ForgeError.is(error, 'FO_IO_READ_ONLY') || ForgeError.is(error, 'FO_IO_NO_SPACE')) return;
        throw error;
      }
      try {
        await this.#recover(undefined);
        await this.#migrate();
      } finally {
        await lock.release();
      }
    });
  }

  /** Moves data written before data was kept per publisher (data.ts); at open only, under the lock. */
  async #migrate(): Promise<void> {
    for (const name of await this.#reader.names()) {
      const ownerOf = async (): Promise<PluginIdentity> => (await this.get(name)).identity;
      const moved = await migrateLegacyData(this.#layout, name, ownerOf, this.#logger);
      this.#migrated = [...this.#migrated, ...moved];
    }
  }

  /** Removes leftovers before a change of `plugin`, or of every plugin at open (`plugin` undefined); recovery.ts. */
  async #recover(plugin: string | undefined): Promise<void> {
    const report = await recoverBefore(this.#layout, plugin);
    if (report.removed.length > 0) {
      this.#recovered = [...this.#recovered, ...report.removed];
      this.#logger.warn('removed leftovers of an interrupted store change', { removed: report.removed });
    }
    for (const path of report.corrupt) this.#logger.error('plugin directory has an unreadable state.json; uninstall it to remove it', { path });
  }

  #serial<T>(body: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(body, body);
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #step(operation: StoreOperation, step: StoreStep): Promise<void> {
    await this.#options.onStep?.(operation, step);
  }

  /**
   * Runs a change of `plugin` under the lock, after recovering from any interrupted
   * change. A change that fails may have left something anywhere it got to, so it removes
   * what it staged at once (on a full disk, the space the next attempt needs) and marks
   * the store for a full recovery before it lets go of the lock.
   */
  #change<T>(operation: StoreOperation, label: string, plugin: string, body: () => Promise<T>): Promise<T> {
    return this.#serial(async () => {
      const lock = await StoreLock.acquire(this.#layout.lockFile, { operation: label, waitMs: this.#options.lockWaitMs ?? 0, onBreak: () => markForRecovery(this.#layout) });
      let done = false;
      try {
        await this.#step(operation, 'locked');
        await this.#recover(plugin);
        await this.#step(operation, 'recovered');
        const result = await body();
        done = true;
        return result;
      } finally {
        if (!done) {
          await discardStaged(this.#layout).catch((error: unknown) => this.#logger.error('could not remove what a failed change staged', { error: toForgeError(error).message }));
          await markForRecovery(this.#layout).catch((error: unknown) => {
            this.#logger.error('could not mark the store for recovery after a failed change; the next open recovers it', { error: toForgeError(error).message });
          });
        }
        await lock.release();
      }
    });
  }

  #verification(operation: string): OpenPackageOptions {
    const verification = this.#options.verification;
    if (verification === undefined) {
      throw new ForgeError('FO_STORE_NO_VERIFIER', `${operation} needs verification settings (trust store, signer policy); the store was opened without them`, {
        details: { operation },
      });
    }
    return { ...verification, limits: this.#limits };
  }

  #now(): string {
    return new Date((this.#options.now ?? Date.now)()).toISOString();
  }

  /**
   * The installed plugin `name`, or undefined when it is not installed.
   * @throws ForgeError FO_STORE_INVALID_NAME, FO_STORE_CORRUPT, FO_IO_*
   */
  find(name: string): Promise<InstalledPlugin | undefined> {
    return this.#reader.find(name);
  }

  /**
   * The installed plugin `name`.
   * @throws ForgeError FO_STORE_NOT_INSTALLED, FO_STORE_INVALID_NAME, FO_STORE_CORRUPT, FO_IO_*
   */
  async get(name: string): Promise<InstalledPlugin> {
    const plugin = await this.find(name);
    if (plugin === undefined) throw notInstalled(name, this.#layout.root);
    return plugin;
  }

  /**
   * Every installed plugin, by name. A plugin whose files are unreadable makes the
   * whole listing fail with its path, rather than hiding it.
   * @throws ForgeError FO_STORE_CORRUPT, FO_IO_*
   */
  async list(): Promise<InstalledPlugin[]> {
    const plugins = await mapConcurrently(await this.#reader.names(), LIST_CONCURRENCY, (name) => this.find(name));
    // Those uninstalled while listing are left out.
    return plugins.filter((plugin): plugin is InstalledPlugin => plugin !== undefined);
  }

  /**
   * Checks the current and previous versions of `name` byte for byte against what was
   * installed: the package file, every unpacked file (no more, no fewer), the
   * manifest digest and the content digest.
   *
   * @returns the plugin when intact
   * @throws ForgeError FO_STORE_CORRUPT with `details.problems`, FO_STORE_NOT_INSTALLED, FO_IO_*
   */
  async verify(name: string): Promise<InstalledPlugin> {
    const plugin = await this.get(name);
    const problems: IntegrityProblem[] = [];
    for (const version of [plugin.current, plugin.previous]) {
      if (version === undefined) continue;
      const record = await this.#reader.record(name, version.version);
      if (record !== undefined) problems.push(...(await checkVersion(version.paths.dir, record)));
    }
    if (problems.length > 0) throw integrityError(name, problems);
    return plugin;
  }

  /**
   * Installs a package: verifies it with the store's verification settings (so with
   * `verify_signatures` on, an unsigned or unverifiable package never gets in), then
   * installs it as a new plugin, or as a new version of an installed one, keeping the
   * version it replaces for {@link rollback}.
   *
   * Installing the version that is already current with the same content changes
   * nothing (`unchanged`); with other content it is refused, as a version names one
   * package. An older version needs `allowDowngrade`, another publisher
   * `allowPublisherChange`, and a version asking for permissions beyond the
   * installed one's `approvePermissions`.
   *
   * @param source a .forgepkg path, or its bytes
   * @throws ForgeError FO_STORE_NO_VERIFIER; every code of openVerifiedPackage
   *   (FO_PACKAGE_*, FO_MANIFEST_*, FO_VERIFY_*, FO_SIGNER_*, ...); FO_STORE_FULL,
   *   FO_STORE_VERSION_EXISTS, FO_STORE_DOWNGRADE, FO_STORE_PUBLISHER_CHANGED,
   *   FO_STORE_APPROVAL_REQUIRED (with `details.diff`), FO_STORE_LOCKED,
   *   FO_STORE_CORRUPT, FO_STORE_INVALID_NAME (a version too long to be a directory name), FO_IO_*
   */
  async install(source: string | Uint8Array, options: InstallOptions = {}): Promise<InstallResult> {
    const attempt = new LoadAttempt(source);
    try {
      return await this.#install(attempt, options);
    } catch (error) {
      throw this.#refused('store.install', attempt, error);
    }
  }

  async #install(attempt: LoadAttempt, options: InstallOptions): Promise<InstallResult> {
    const verification = this.#verification('install');
    // The bytes verified are the bytes stored: the file is read once.
    const bytes = await readPackageSource(attempt.source, this.#limits.maxPackageSize);
    attempt.bytes = bytes;
    const opened = await openVerifiedPackage(bytes, verification).catch(async (error: unknown) => {
      await attempt.readClaim(toForgeError(error), this.#limits);
      throw error;
    });
    attempt.verified(opened.identity);
    const { contents, identity } = opened;
    options.admit?.(identity);
    const { name, version } = identity;
    if (!isVersionDirName(version)) {
      throw new ForgeError('FO_STORE_INVALID_NAME', `expected a version of at most 200 characters, found ${version.length} characters`, { details: { name, version } });
    }
    await this.#step('install', 'verified');
    return this.#change('install', `install ${name} ${version}`, name, async () => {
      const state = await this.#reader.state(name);
      const input = { bytes, contents, identity, installedAt: this.#now() };
      const context = this.#installContext();
      const result = state === undefined ? await installNew(context, name, input) : await installOver(context, state, input, options);
      this.#logger.info(`plugin ${result.action}`, { name, version, from: result.from, publisher: identity.publisher, digest: identity.digest });
      return result;
    });
  }

  /** Audits a refused install or rollback; returns the refusal to throw. */
  #refused(action: string, attempt: LoadAttempt, error: unknown): ForgeError {
    const refusal = toForgeError(error);
    const audit = this.#options.audit;
    if (audit !== undefined) auditRefusal({ audit: audit.log, principal: audit.principal, action, logger: this.#logger }, attempt, refusal);
    return refusal;
  }

  #installContext(): InstallContext {
    return {
      layout: this.#layout,
      reader: this.#reader,
      maxPlugins: this.#options.maxPlugins ?? DEFAULT_MAX_PLUGINS,
      step: (step) => this.#step('install', step),
      get: (name) => this.get(name),
      switchState: (state) => this.#switch('install', state),
      discard: (path) => this.#discard('install', path),
    };
  }

  /** Replaces state.json: the one rename that makes an upgrade or rollback happen. */
  async #switch(operation: StoreOperation, state: StateFile): Promise<void> {
    await replaceFileAtomic(this.#layout.state(state.name), storeJson(state), STATE_MODE, () => this.#step(operation, 'state-written'));
    await this.#step(operation, 'switched');
  }

  /** Moves a directory out of place into the trash, then deletes it. */
  async #discard(operation: StoreOperation, path: string): Promise<void> {
    const doomed = join(this.#layout.trash, transactionId());
    await renameDurable(path, doomed);
    await this.#step(operation, 'trashed');
    await removeTree(doomed);
    await this.#step(operation, 'cleaned');
  }

  /**
   * Removes a plugin: every version and its data directory, in one rename (into the
   * trash) followed by the deletion. A plugin whose state.json is unreadable can be
   * uninstalled too.
   *
   * @throws ForgeError FO_STORE_NOT_INSTALLED, FO_STORE_INVALID_NAME, FO_STORE_LOCKED, FO_IO_*
   */
  async uninstall(name: string): Promise<UninstallResult> {
    checkPluginName(name);
    return this.#change('uninstall', `uninstall ${name}`, name, async () => {
      let version: string | undefined;
      try {
        const state = await this.#reader.state(name);
        if (state === undefined) throw notInstalled(name, this.#layout.root);
        version = state.current;
      } catch (error) {
        if (!ForgeError.is(error, 'FO_STORE_CORRUPT')) throw error;
      }
      await this.#discard('uninstall', this.#layout.plugin(name));
      this.#logger.info('plugin uninstalled', { name, version });
      return { name, version };
    });
  }

  /**
   * Makes the kept previous version current again, and the current one the previous
   * (so a second rollback undoes the first). The previous version is checked first:
   * its files against its record, and its package against the store's verification
   * settings as they are now (a signer revoked since is refused). Its permissions were
   * approved when it was installed, so no approval is asked.
   *
   * @returns the plugin after the rollback
   * @throws ForgeError FO_STORE_NO_VERIFIER, FO_STORE_NOT_INSTALLED, FO_STORE_NO_PREVIOUS,
   *   FO_STORE_CORRUPT, FO_STORE_LOCKED, the verification codes of openVerifiedPackage, FO_IO_*
   */
  async rollback(name: string): Promise<InstalledPlugin> {
    checkPluginName(name);
    const attempt = new LoadAttempt(name);
    try {
      return await this.#rollback(name, attempt);
    } catch (error) {
      throw this.#refused('store.rollback', attempt, error);
    }
  }

  async #rollback(name: string, attempt: LoadAttempt): Promise<InstalledPlugin> {
    const verification = this.#verification('rollback');
    return this.#change('rollback', `rollback ${name}`, name, async () => {
      const plugin = await this.get(name);
      const target = plugin.previous;
      if (target === undefined) {
        throw new ForgeError('FO_STORE_NO_PREVIOUS', `expected a previous version of ${name} to roll back to, found only ${plugin.version}`, {
          details: { name, version: plugin.version },
        });
      }
      attempt.verified(target.identity);
      const record = await this.#reader.record(name, target.version);
      const problems = record === undefined ? [{ path: target.paths.dir, problem: 'expected a record, found none' }] : await checkVersion(target.paths.dir, record);
      if (problems.length > 0) throw integrityError(name, problems);
      const reopened = await openVerifiedPackage(await readPackageSource(target.paths.package, this.#limits.maxPackageSize), verification);
      if (reopened.identity.digest !== target.identity.digest) {
        throw corrupt(target.paths.package, `expected ${target.paths.package} to hold content ${target.identity.digest}, found ${reopened.identity.digest}`);
      }
      await this.#switch('rollback', { format: STORE_FORMAT, name, current: target.version, previous: plugin.version, switched_at: this.#now() });
      this.#logger.info('plugin rolled back', { name, from: plugin.version, to: target.version });
      return this.get(name);
    });
  }
}
