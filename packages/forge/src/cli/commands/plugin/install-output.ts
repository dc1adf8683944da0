/**
 * What `forge install` prints, from what either the store or the daemon reports, so the
 * text is the same whichever did the install; and reading a package to upload under the
 * same size limit the store applies.
 */
import { open } from 'node:fs/promises';
import { ForgeError, fromFsError } from '@forgeone/common';
import type { PermissionDiff, Permissions } from '@forgeone/plugin-manager';
import { sanitizeForTerminal } from '../../terminal.js';
import { diffLines, permissionLines } from './store.js';

/** An install's outcome, as both the store and the daemon describe it. */
export interface InstallSummary {
  readonly action: 'installed' | 'upgraded' | 'downgraded' | 'unchanged';
  readonly from: string | null;
  readonly diff: PermissionDiff | null;
  readonly name: string;
  readonly version: string;
  readonly publisher: string;
  readonly attested: boolean;
  readonly digest: string;
  /** Where the version is installed; undefined when a daemon, possibly elsewhere, installed it. */
  readonly path: string | undefined;
  readonly permissions: Permissions;
  /** The version kept for rollback. */
  readonly previous: string | null;
}

/** The lines `forge install` prints, every plugin-supplied value sanitised. */
export function installLines(summary: InstallSummary): string[] {
  const { action, from, diff } = summary;
  const name = sanitizeForTerminal(summary.name);
  const version = sanitizeForTerminal(summary.version);
  const headline =
    action === 'installed' ? `installed ${name} ${version}` : action === 'unchanged' ? `${name} ${version} is already installed; nothing changed` : `${action} ${name} ${sanitizeForTerminal(from ?? '')} -> ${version}`;
  const lines = [headline, `  publisher: ${sanitizeForTerminal(summary.publisher)}${summary.attested ? '' : ' (not verified)'}`, `  digest:    ${sanitizeForTerminal(summary.digest)}`];
  if (summary.path !== undefined) lines.push(`  path:      ${sanitizeForTerminal(summary.path)}`);
  if (action === 'installed') lines.push('Permissions:', ...permissionLines(summary.permissions));
  else if (diff !== null && !diff.unchanged) lines.push(`Permission changes${diff.widens ? ' (approved)' : ''}:`, ...diffLines(diff));
  if (summary.previous !== null && action !== 'unchanged') lines.push(`Previous version ${sanitizeForTerminal(summary.previous)} is kept; forge rollback ${name} returns to it.`);
  return lines;
}

/**
 * A package's bytes, refused above `maxSize` before they are read (as the store refuses it).
 * @param maxSize package_limits.max_package_size, in bytes
 * @throws ForgeError FO_PACKAGE_TOO_LARGE, FO_IO_*
 */
export async function readPackage(file: string, maxSize: number): Promise<Uint8Array> {
  try {
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      if (size > maxSize) {
        throw new ForgeError('FO_PACKAGE_TOO_LARGE', `package: expected at most ${maxSize} bytes, found ${size} bytes in ${file}`, { details: { limit: maxSize, actual: size, path: file } });
      }
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw fromFsError(error, 'read the package', file);
  }
}
