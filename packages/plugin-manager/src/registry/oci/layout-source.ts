/**
 * Reading a plugin back from an OCI image layout (`forge install oci:DIR[:TAG]`, offline):
 * the same checks as from a registry. A layout is as untrusted as a registry: a blob
 * must be a regular file of its descriptor's size, under the cap, hashing to its name.
 */
import { createHash } from 'node:crypto';
import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ForgeError, fromFsError } from '@forgeone/common';
import { REF_NAME_ANNOTATION, readIndex } from './layout.js';
import { parseManifest, type Descriptor } from './manifest.js';
import { MAX_INDEX_SIZE } from './referrers.js';
import type { ArtifactSource } from './source.js';

const DIGEST = /^sha256:[a-f0-9]{64}$/;

/**
 * `oci:DIR[:TAG]` -> its directory and tag (default `latest`), or undefined when `text` does
 * not start with `oci:`. DIR ends at the first colon, as skopeo reads it, so TAG may hold
 * colons (`oci:mirror:greeter:1.2.0`, a dependency forge pull --to mirrored).
 */
export function parseLayoutArgument(text: string): { dir: string; tag: string } | undefined {
  if (!text.startsWith('oci:')) return undefined;
  const body = text.slice('oci:'.length);
  const colon = body.indexOf(':');
  const dir = colon < 0 ? body : body.slice(0, colon);
  const tag = colon < 0 ? 'latest' : body.slice(colon + 1);
  if (dir === '' || tag === '') {
    throw new ForgeError('FO_OCI_BAD_REFERENCE', `image layout ${JSON.stringify(text)}: expected oci:DIR[:TAG]`, { details: { reference: text } });
  }
  return { dir, tag };
}

async function readBlob(dir: string, digest: string, size: number | undefined, limit: number, what: string): Promise<Buffer> {
  if (!DIGEST.test(digest)) throw new ForgeError('FO_OCI_PROTOCOL', `${what}: expected a sha256 digest, found ${JSON.stringify(digest)}`, { details: { digest } });
  const path = join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length));
  let bytes: Buffer;
  try {
    const info = await lstat(path);
    if (!info.isFile()) throw new ForgeError('FO_OCI_PROTOCOL', `${what}: expected ${path} to be a regular file`, { details: { path } });
    if (info.size > limit) throw new ForgeError('FO_OCI_TOO_LARGE', `${what}: expected at most ${limit} bytes, ${path} has ${info.size}`, { details: { limit, actual: info.size } });
    if (size !== undefined && info.size !== size) {
      throw new ForgeError('FO_OCI_DIGEST_MISMATCH', `${what}: expected ${size} bytes, ${path} has ${info.size}`, { details: { expected: size, actual: info.size } });
    }
    bytes = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new ForgeError('FO_OCI_NOT_FOUND', `${what}: the layout has no blob ${digest}`, { details: { path } });
    throw fromFsError(error, `read ${what}`, path);
  }
  // Checked again after reading: the file may have changed between lstat and read.
  if (bytes.length > limit || (size !== undefined && bytes.length !== size)) {
    throw new ForgeError('FO_OCI_DIGEST_MISMATCH', `${what}: ${path} changed while it was read`, { details: { path } });
  }
  const actual = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  if (actual !== digest) throw new ForgeError('FO_OCI_DIGEST_MISMATCH', `${what}: expected digest ${digest}, ${path} hashes to ${actual}`, { details: { expected: digest, actual } });
  return bytes;
}

/** The image layout at `dir` as an artifact source. */
export function layoutSource(dir: string): ArtifactSource {
  let index: Promise<readonly Descriptor[]> | undefined;
  const entries = (): Promise<readonly Descriptor[]> => (index ??= readIndex(dir));
  return {
    async manifest(target, limit, expected) {
      let digest = target;
      if (!DIGEST.test(target)) {
        const named = (await entries()).filter((entry) => entry.annotations?.[REF_NAME_ANNOTATION] === target);
        const [entry] = named;
        if (entry === undefined) throw new ForgeError('FO_OCI_NOT_FOUND', `image layout ${dir}: no manifest named ${JSON.stringify(target)} in index.json`, { details: { dir, tag: target } });
        if (named.length > 1) throw new ForgeError('FO_OCI_PROTOCOL', `image layout ${dir}: ${named.length} manifests named ${JSON.stringify(target)}`, { details: { dir, tag: target } });
        digest = entry.digest;
      }
      if (expected !== undefined && digest !== expected) {
        throw new ForgeError('FO_OCI_DIGEST_MISMATCH', `image layout ${dir}: expected manifest ${expected}, ${target} names ${digest}`, { details: { expected, actual: digest } });
      }
      return { bytes: await readBlob(dir, digest, undefined, limit, `manifest ${target}`), digest };
    },
    blob: (descriptor, limit) => readBlob(dir, descriptor.digest, descriptor.size, limit, `blob ${descriptor.digest}`),
    async referrers(subject, artifactType) {
      const found: Descriptor[] = [];
      for (const entry of await entries()) {
        if (entry.artifactType !== artifactType) continue;
        // A layout has no referrers API: a referrer is a listed manifest whose subject names ours.
        const manifest = parseManifest(await readBlob(dir, entry.digest, entry.size, MAX_INDEX_SIZE, `manifest ${entry.digest}`), `manifest ${entry.digest}`);
        if (manifest.subject?.digest === subject) found.push(entry);
      }
      return found;
    },
  };
}
