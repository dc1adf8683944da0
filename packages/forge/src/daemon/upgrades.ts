/**
 * Upgrades that wait for an admin: an uploaded package refused with
 * FO_STORE_APPROVAL_REQUIRED is kept (pending.ts) and the refusal names it
 * (`details.pendingUpgrade`); approving installs it with its permissions approved,
 * discarding forgets it.
 *
 * An approval holds only for the version the diff was computed against: if another
 * version is installed now (an upgrade, a rollback, a removal came between), the diff
 * the admin read is not the one the install would accept, and the approval is refused
 * with FO_DAEMON_UPGRADE_STALE.
 */
import { ForgeError, toForgeError, type Logger } from '@forgeone/common';
import type { HeldOptions, PendingUpgrade, PendingUpgrades } from './pending.js';
import { Serial } from './serial.js';
import type { InstallOutcome, PluginService } from './service.js';

/** See the module comment. */
export class Upgrades {
  readonly #pending: PendingUpgrades;
  readonly #plugins: PluginService;
  readonly #logger: Logger;
  readonly #serial = new Serial();

  constructor(pending: PendingUpgrades, plugins: PluginService, logger: Logger) {
    this.#pending = pending;
    this.#plugins = plugins;
    this.#logger = logger;
  }

  /**
   * Keeps an upload the store refused for approval. Returns the refusal to answer with:
   * the same, with `details.pendingUpgrade` naming the kept entry, or unchanged when it
   * could not be kept (the failure is logged; the client still learns why it was refused).
   */
  async hold(bytes: Uint8Array, refusal: ForgeError, by: string, options: HeldOptions): Promise<ForgeError> {
    try {
      const id = await this.#pending.keep(bytes, refusal, by, options);
      return new ForgeError(refusal.code, `${refusal.message}; kept as pending upgrade ${id} for an admin to approve`, {
        details: { ...refusal.details, pendingUpgrade: id },
        cause: refusal,
      });
    } catch (error) {
      this.#logger.warn('an upgrade refused for approval could not be kept as pending', { error: toForgeError(error).message });
      return refusal;
    }
  }

  /** Every pending upgrade, newest first. */
  list(): PendingUpgrade[] {
    return this.#pending.list();
  }

  /**
   * Installs a pending upgrade with its permissions approved (and the downgrade,
   * publisher change and start its upload asked for), then forgets it.
   * @throws ForgeError FO_DAEMON_UPGRADE_NOT_FOUND, FO_DAEMON_UPGRADE_STALE,
   *   FO_DAEMON_STATE_INVALID, the install's codes (the entry is kept then)
   */
  approve(id: string): Promise<InstallOutcome> {
    return this.#serial.run(id, async () => {
      const { upgrade, bytes, options } = await this.#pending.read(id);
      const installed = await this.#plugins.get(upgrade.name).then(
        (view) => view.version,
        (error: unknown) => {
          if (ForgeError.is(error, 'FO_STORE_NOT_INSTALLED')) return undefined;
          throw error;
        },
      );
      if (installed !== upgrade.from) {
        throw new ForgeError(
          'FO_DAEMON_UPGRADE_STALE',
          `pending upgrade ${id} takes ${upgrade.name} from ${upgrade.from} to ${upgrade.to}, but ${installed === undefined ? 'it is no longer installed' : `${installed} is installed now`}; its permission diff no longer holds, upload the package again`,
          { details: { id, name: upgrade.name, from: upgrade.from, installed: installed ?? null } },
        );
      }
      const outcome = await this.#plugins.install(bytes, { approvePermissions: true, allowDowngrade: options.allowDowngrade, allowPublisherChange: options.allowPublisherChange, start: options.start });
      await this.#pending.discard(id).catch((error: unknown) => {
        if (!ForgeError.is(error, 'FO_DAEMON_UPGRADE_NOT_FOUND')) throw error;
      });
      return outcome;
    });
  }

  /**
   * Forgets a pending upgrade.
   * @throws ForgeError FO_DAEMON_UPGRADE_NOT_FOUND
   */
  discard(id: string): Promise<void> {
    return this.#serial.run(id, () => this.#pending.discard(id));
  }
}
