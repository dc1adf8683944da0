/**
 * The named steps of every store change, in order. The store calls an optional hook
 * at each one ({@link PluginStoreOptions.onStep}); the crash tests kill a child
 * process there to prove that every prefix of a change leaves a consistent store.
 */

/** Changes the store makes under its lock. */
export type StoreOperation = 'install' | 'uninstall' | 'rollback';

/**
 * - `verified`: install: the package was read and verified; the lock is not taken yet.
 * - `locked`: the store lock is held; nothing changed yet.
 * - `recovered`: leftovers of an interrupted change were removed.
 * - `staging`: install: a fresh directory exists under .store/staging.
 * - `file`: install: one more package file was written and flushed in staging (once per file;
 *   several are written at once, so the order of files varies).
 * - `staged`: install: the new version (or new plugin) is complete and flushed in staging.
 * - `committed`: install: it was renamed into place; state.json still names the old version.
 * - `state-written`: upgrade, rollback: the new state.json is on disk under a temporary name.
 * - `switched`: upgrade, rollback: state.json was replaced; the change is done.
 * - `trashed`: uninstall, upgrade: a directory was renamed into .store/trash.
 * - `cleaned`: the trash entry was deleted.
 */
export const STORE_STEPS = ['verified', 'locked', 'recovered', 'staging', 'file', 'staged', 'committed', 'state-written', 'switched', 'trashed', 'cleaned'] as const;

/** One of {@link STORE_STEPS}. */
export type StoreStep = (typeof STORE_STEPS)[number];

/** Called at each step; the store waits for a returned promise. For tests and tracing only. */
export type StoreStepHook = (operation: StoreOperation, step: StoreStep) => void | Promise<void>;
