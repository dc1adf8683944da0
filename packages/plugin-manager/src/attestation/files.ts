/**
 * The few file operations attestation does: reading small PEM/JSON files under a
 * size limit and writing new key, certificate and list files without ever
 * overwriting one by accident. Private keys are created with mode 0600 from the
 * start (never chmod-ed after the fact, which would leave a window).
 */
import { open, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ForgeError, fromFsError } from '@forgeone/common';
import { privateKeyPem, publicKeyPem, type PrivateKey } from './crypto.js';

/** Largest key, certificate, policy or list file read, in bytes. */
export const MAX_SMALL_FILE_BYTES = 4 * 1024 * 1024;

/**
 * Reads a file of at most {@link MAX_SMALL_FILE_BYTES}.
 * @throws ForgeError FO_IO_*, FO_IO_FAILED for a file over the limit or not a regular file
 */
export async function readSmallFile(file: string): Promise<Buffer> {
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new ForgeError('FO_IO_FAILED', `${file} is not a regular file`, { details: { path: file } });
    if (info.size > MAX_SMALL_FILE_BYTES) {
      throw new ForgeError('FO_IO_FAILED', `${file} is ${info.size} bytes; key, certificate and policy files may be at most ${MAX_SMALL_FILE_BYTES}`, {
        details: { path: file, size: info.size, limit: MAX_SMALL_FILE_BYTES },
      });
    }
    return await readFile(file);
  } catch (error) {
    throw fromFsError(error, 'read the file', file);
  }
}

/** Options for {@link writeNewFile}. */
export interface WriteNewFileOptions {
  /** File mode. Default 0o644. */
  readonly mode?: number;
  /** Replace an existing file (atomically: a temporary file renamed over it) instead of refusing. Default false. */
  readonly overwrite?: boolean;
}

/**
 * Writes a file that must not exist yet, created with `mode`; with `overwrite`, replaces
 * it atomically, so readers see the old file or the new one, never half of one.
 * @throws ForgeError FO_IO_EXISTS, FO_IO_*
 */
export async function writeNewFile(file: string, data: string | Uint8Array, options: WriteNewFileOptions = {}): Promise<void> {
  const target = options.overwrite === true ? join(dirname(file), `.${basename(file)}.${process.pid}.${Date.now()}.tmp`) : file;
  try {
    const handle = await open(target, 'wx', options.mode ?? 0o644);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (target !== file) await rename(target, file);
  } catch (error) {
    if (target !== file) await rm(target, { force: true });
    throw fromFsError(error, 'write the file', file);
  }
}

/**
 * Writes `<prefix>.key` (PKCS#8 PEM, mode 0600) and `<prefix>.pub` (SPKI PEM, 0644).
 * Refuses to overwrite either.
 * @returns the two paths
 * @throws ForgeError FO_IO_EXISTS, FO_IO_*
 */
export async function writeKeyPair(prefix: string, key: PrivateKey): Promise<{ readonly privateKeyFile: string; readonly publicKeyFile: string }> {
  const privateKeyFile = `${prefix}.key`;
  const publicKeyFile = `${prefix}.pub`;
  for (const file of [privateKeyFile, publicKeyFile]) {
    const exists = await stat(file).then(
      () => true,
      () => false,
    );
    if (exists) throw new ForgeError('FO_IO_EXISTS', `${file} already exists; refusing to overwrite a key`, { details: { path: file } });
  }
  await writeNewFile(privateKeyFile, privateKeyPem(key), { mode: 0o600 });
  await writeNewFile(publicKeyFile, publicKeyPem(key.publicKey));
  return { privateKeyFile, publicKeyFile };
}
