/**
 * Tokens without a daemon: the daemon's database (daemon.database) opened directly, as
 * the daemon would, by a user the file system lets write it (the daemon's own user).
 * Creating and revoking a token is recorded in the configured audit log, as the daemon
 * records the API's token operations, so a token made while the daemon was down is
 * still accounted for.
 */
import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import { openConfiguredAuditLog } from '@forgeone/microkernel';
import { DaemonState } from '../../../daemon/state.js';
import { Tokens } from '../../../daemon/tokens.js';
import type { CliIo } from '../../command.js';
import type { CliConfig } from '../../config.js';

/** The principal recorded for a local change: the operating-system user running forge. */
function localPrincipal(): string {
  try {
    return `user:${userInfo().username}`;
  } catch {
    return `user:uid-${process.geteuid?.() ?? 'unknown'}`;
  }
}

/**
 * Runs `work` on the token table of the daemon's database, then closes it.
 * @throws ForgeError FO_DAEMON_STATE_INVALID, FO_IO_*, what `work` throws
 */
export function withLocalTokens<T>({ config }: CliConfig, work: (tokens: Tokens) => T): T {
  const state = DaemonState.open(config.daemon.database);
  try {
    return work(new Tokens(state.db));
  } finally {
    state.close();
  }
}

/** What a local change records in the audit log. */
export interface TokenChange<T> {
  readonly result: T;
  readonly action: 'create' | 'revoke';
  /** The token's id. */
  readonly id: string;
  readonly data: Readonly<Record<string, string>>;
}

/**
 * Changes the token table and records the change in the configured audit log (when
 * security.audit_logging is on), durably. The log is opened first: a change that
 * cannot be audited is not made (fail closed).
 * @throws ForgeError the audit log's codes (FO_AUDIT_LOCKED while another process writes
 *   it, ...), and those of {@link withLocalTokens}
 */
export async function changeTokensLocally<T>(io: CliIo, cli: CliConfig, change: (tokens: Tokens) => TokenChange<T>): Promise<T> {
  const { config, file } = cli;
  const log = config.security.audit_logging ? await openConfiguredAuditLog(config.audit, file === undefined ? io.cwd : dirname(file)) : undefined;
  try {
    const done = withLocalTokens(cli, change);
    await log?.appendDurable({
      principal: localPrincipal(),
      action: `cli.tokens.${done.action}`,
      resource: done.id,
      decision: 'allow',
      reason: 'direct access to the daemon database while no daemon runs',
      data: { transport: 'local', ...done.data },
    });
    return done.result;
  } finally {
    await log?.close();
  }
}
