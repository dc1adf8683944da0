/**
 * From the `audit` table of plugin-manager.yaml to an open log: resolves its paths,
 * loads (or creates) the checkpoint key and opens the log. For composition roots.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { mkdir, stat } from 'node:fs/promises';
import { ForgeError, fromFsError, type ForgeConfig, type Logger } from '@forgeone/common';
import { loadOrCreateCheckpointKey, publicKeyFileFor } from './keys.js';
import { AuditLog } from './log.js';
import type { AuditCheckpointNotice } from './options.js';
import { appendWitness } from './witness.js';

/** The normalised `plugin_manager.audit` table. */
export type AuditConfig = ForgeConfig['audit'];

/** The files an audit configuration names, as absolute paths. */
export interface AuditPaths {
  readonly log: string;
  readonly checkpointKey: string;
  /** Where the checkpoint key's public half is written: verify with this (or a copy kept elsewhere). */
  readonly publicKey: string;
  /** The witness file every checkpoint is appended to, when configured. */
  readonly witness?: string;
}

/**
 * Resolves the configured paths; relative ones are taken from `baseDir` (the
 * configuration file's directory).
 */
export function auditPathsFromConfig(config: AuditConfig, baseDir: string): AuditPaths {
  const from = (path: string): string => (isAbsolute(path) ? path : resolve(baseDir, path));
  const checkpointKey = from(config.checkpoint_key);
  return { log: from(config.path), checkpointKey, publicKey: publicKeyFileFor(checkpointKey), ...(config.witness === undefined ? {} : { witness: from(config.witness) }) };
}

/**
 * Opens the configured audit log for writing, creating the checkpoint key (and its
 * directory, mode 0700) on first use.
 *
 * @throws ForgeError the codes of {@link AuditLog.open} and of loadOrCreateCheckpointKey
 */
export async function openConfiguredAuditLog(
  config: AuditConfig,
  baseDir: string,
  extra: { readonly logger?: Logger; readonly onCheckpoint?: (checkpoint: AuditCheckpointNotice) => void } = {},
): Promise<AuditLog> {
  const paths = auditPathsFromConfig(config, baseDir);
  await mkdir(dirname(paths.checkpointKey), { recursive: true, mode: 0o700 }).catch((error: unknown) => {
    throw fromFsError(error, 'create the audit key directory', dirname(paths.checkpointKey));
  });
  const { witness } = paths;
  if (witness !== undefined) {
    // Its directory is not created: a witness belongs on a volume the operator mounted for it.
    const directory = await stat(dirname(witness)).catch((error: unknown) => {
      throw fromFsError(error, 'find the audit witness directory', dirname(witness));
    });
    if (!directory.isDirectory()) throw new ForgeError('FO_IO_FAILED', `the audit witness ${witness} must be in a directory; ${dirname(witness)} is not one`, { details: { path: dirname(witness) } });
  }
  const { key, created } = await loadOrCreateCheckpointKey(paths.checkpointKey);
  if (created) extra.logger?.info('created the audit checkpoint key', { key: paths.checkpointKey, publicKey: paths.publicKey, id: key.id });
  return AuditLog.open({
    path: paths.log,
    level: config.level,
    signingKey: key,
    checkpointEvery: config.checkpoint_every,
    checkpointInterval: config.checkpoint_interval,
    rotateSize: config.rotate_size,
    ...(extra.logger === undefined ? {} : { logger: extra.logger }),
    ...(witness === undefined && extra.onCheckpoint === undefined ? {} : { onCheckpoint: (notice: AuditCheckpointNotice) => witnessed(notice, witness, extra) }),
  });
}

/** A durable checkpoint goes to the witness first (a failure is logged loudly, not fatal: the log itself is intact), then to the caller's hook. */
function witnessed(notice: AuditCheckpointNotice, witness: string | undefined, extra: { readonly logger?: Logger; readonly onCheckpoint?: (checkpoint: AuditCheckpointNotice) => void }): void {
  if (witness !== undefined) {
    try {
      appendWitness(witness, notice);
    } catch (error) {
      extra.logger?.error('the audit witness missed a checkpoint: rollback past it will not be detected', { witness, seq: notice.seq, error: (error as Error).message });
    }
  }
  extra.onCheckpoint?.(notice);
}
