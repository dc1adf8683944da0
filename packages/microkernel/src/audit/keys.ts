/**
 * The Ed25519 host key that signs audit checkpoints: loading, creating, naming, and
 * the signature over a checkpoint statement. The only audit module that signs.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { ForgeError, fromFsError, isNodeSystemError } from '@forgeone/common';
import { checkpointStatement } from './format.js';

/** A public key to check checkpoints with. */
export interface CheckpointVerifyKey {
  /** `sha256:<hex>` of the key's SPKI DER encoding, as written in checkpoint records. */
  readonly id: string;
  readonly publicKey: KeyObject;
}

/** The private key that signs checkpoints, with its public half. */
export interface CheckpointKey extends CheckpointVerifyKey {
  readonly privateKey: KeyObject;
}

/** The id of an Ed25519 public key: `sha256:` and the hex sha256 of its SPKI DER encoding. */
export function checkpointKeyId(publicKey: KeyObject): string {
  return `sha256:${createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex')}`;
}

function ed25519(key: KeyObject, file: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new ForgeError('FO_AUDIT_KEY_INVALID', `${file} holds a ${key.asymmetricKeyType ?? 'symmetric'} key; audit checkpoints need an Ed25519 key`, {
      details: { file, type: key.asymmetricKeyType ?? null },
    });
  }
  return key;
}

function keyFromPem(pem: string, file: string, kind: 'private' | 'public'): KeyObject {
  try {
    return ed25519(kind === 'private' ? createPrivateKey(pem) : createPublicKey(pem), file);
  } catch (error) {
    if (error instanceof ForgeError) throw error;
    throw new ForgeError('FO_AUDIT_KEY_INVALID', `${file} is not a PEM ${kind} key: ${(error as Error).message}`, { details: { file }, cause: error });
  }
}

/** A new random checkpoint key, in memory. */
export function generateCheckpointKey(): CheckpointKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey, id: checkpointKeyId(publicKey) };
}

/**
 * Reads a checkpoint signing key: an Ed25519 private key, PKCS#8 PEM.
 * @throws ForgeError FO_AUDIT_KEY_INVALID, FO_IO_NOT_FOUND, FO_IO_PERMISSION, FO_IO_FAILED
 */
export async function loadCheckpointKey(file: string): Promise<CheckpointKey> {
  const pem = await readFile(file, 'utf8').catch((error: unknown) => {
    throw fromFsError(error, 'read the audit checkpoint key', file);
  });
  const privateKey = keyFromPem(pem, file, 'private');
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, id: checkpointKeyId(publicKey) };
}

/**
 * Reads a key to verify checkpoints with: an Ed25519 public key (SPKI PEM), or a
 * private key, whose public half is used.
 * @throws ForgeError FO_AUDIT_KEY_INVALID, FO_IO_NOT_FOUND, FO_IO_PERMISSION, FO_IO_FAILED
 */
export async function loadCheckpointVerifyKey(file: string): Promise<CheckpointVerifyKey> {
  const pem = await readFile(file, 'utf8').catch((error: unknown) => {
    throw fromFsError(error, 'read the audit public key', file);
  });
  const publicKey = pem.includes('PRIVATE KEY') ? createPublicKey(keyFromPem(pem, file, 'private')) : keyFromPem(pem, file, 'public');
  return { publicKey, id: checkpointKeyId(publicKey) };
}

/** Where the public half of a key file is written: `key.pem` -> `key.pub.pem`. */
export function publicKeyFileFor(privateKeyFile: string): string {
  return `${privateKeyFile.replace(/\.pem$/, '')}.pub.pem`;
}

/**
 * Reads the checkpoint key, creating it first when the file does not exist: the
 * private key is written with mode 0600 (and never over an existing file), the public
 * half next to it ({@link publicKeyFileFor}) with mode 0644.
 *
 * @returns the key, and whether it was created now
 * @throws ForgeError FO_AUDIT_KEY_INVALID, FO_IO_PERMISSION, FO_IO_FAILED
 */
export async function loadOrCreateCheckpointKey(file: string): Promise<{ readonly key: CheckpointKey; readonly created: boolean }> {
  try {
    return { key: await loadCheckpointKey(file), created: false };
  } catch (error) {
    if (!ForgeError.is(error, 'FO_IO_NOT_FOUND')) throw error;
  }
  const key = generateCheckpointKey();
  const privatePem = key.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  try {
    await writeFile(file, privatePem, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    // Another process created it first: use theirs.
    if (isNodeSystemError(error, 'EEXIST')) return { key: await loadCheckpointKey(file), created: false };
    throw fromFsError(error, 'create the audit checkpoint key', file);
  }
  const publicFile = publicKeyFileFor(file);
  await writeFile(publicFile, key.publicKey.export({ type: 'spki', format: 'pem' }) as string, { mode: 0o644 }).catch((error: unknown) => {
    throw fromFsError(error, 'write the audit public key', publicFile);
  });
  return { key, created: true };
}

/** The base64 Ed25519 signature over {@link checkpointStatement}(seq, hash). */
export function signCheckpoint(key: CheckpointKey, seq: number, recordHash: string): string {
  return sign(null, Buffer.from(checkpointStatement(seq, recordHash)), key.privateKey).toString('base64');
}

/** True when `signature` (base64) signs {@link checkpointStatement}(seq, hash) with `key`. */
export function verifyCheckpointSignature(key: CheckpointVerifyKey, seq: number, recordHash: string, signature: string): boolean {
  const bytes = Buffer.from(signature, 'base64');
  if (bytes.length !== 64 || bytes.toString('base64') !== signature) return false;
  return verify(null, Buffer.from(checkpointStatement(seq, recordHash)), key.publicKey, bytes);
}
