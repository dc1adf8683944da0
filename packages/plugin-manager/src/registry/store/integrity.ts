/**
 * Checking an installed version against its record: the package file, every
 * unpacked file (no more, no fewer), the manifest digest, and that the file listing
 * still yields the identity's content digest.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { ForgeError, isNodeSystemError } from '@forgeone/common';
import { MANIFEST_JSON, contentDigest, sha256Digest } from '../../loader/index.js';
import { VERSION_ENTRIES } from './layout.js';
import type { VersionRecord } from './records.js';

/** One thing wrong with an installed version. */
export interface IntegrityProblem {
  readonly path: string;
  /** What was expected there and what was found. */
  readonly problem: string;
}

async function digestOf(path: string): Promise<{ digest: string; size: number } | string> {
  try {
    const data = await readFile(path);
    return { digest: sha256Digest(data), size: data.length };
  } catch (error) {
    return isNodeSystemError(error) ? error.code : String(error);
  }
}

async function listFiles(root: string): Promise<string[]> {
  try {
    const entries = await readdir(root, { recursive: true, withFileTypes: true });
    return entries.filter((entry) => !entry.isDirectory()).map((entry) => relative(root, join(entry.parentPath, entry.name)).split(sep).join('/'));
  } catch {
    return [];
  }
}

/**
 * Every problem with the version directory `dir` against `record`; [] when it is
 * intact.
 */
export async function checkVersion(dir: string, record: VersionRecord): Promise<IntegrityProblem[]> {
  const problems: IntegrityProblem[] = [];
  const packagePath = join(dir, VERSION_ENTRIES.package);
  const pkg = await digestOf(packagePath);
  if (typeof pkg === 'string') problems.push({ path: packagePath, problem: `expected the package file, found ${pkg}` });
  else if (pkg.digest !== record.package_sha256 || pkg.size !== record.package_size) {
    problems.push({ path: packagePath, problem: `expected ${record.package_sha256} (${record.package_size} bytes), found ${pkg.digest} (${pkg.size} bytes)` });
  }
  const filesDir = join(dir, VERSION_ENTRIES.files);
  const listed = new Set(record.files.map((file) => file.path));
  for (const file of record.files) {
    const path = join(filesDir, ...file.path.split('/'));
    const found = await digestOf(path);
    if (typeof found === 'string') problems.push({ path, problem: `expected a file of ${file.size} bytes, found ${found}` });
    else if (found.digest !== `sha256:${file.sha256}` || found.size !== file.size) {
      problems.push({ path, problem: `expected sha256:${file.sha256} (${file.size} bytes), found ${found.digest} (${found.size} bytes)` });
    } else if (file.path === MANIFEST_JSON && found.digest !== record.manifest_digest) {
      problems.push({ path, problem: `expected the manifest digest ${record.manifest_digest}, found ${found.digest}` });
    }
  }
  for (const path of await listFiles(filesDir)) {
    if (!listed.has(path)) problems.push({ path: join(filesDir, path), problem: 'expected no such file (it is not part of the package)' });
  }
  const digest = contentDigest(record.files);
  if (digest !== record.identity.digest) {
    problems.push({ path: join(dir, VERSION_ENTRIES.record), problem: `expected the files to give the identity's digest ${record.identity.digest}, found ${digest}` });
  }
  return problems;
}

/** The FO_STORE_CORRUPT error listing (the first five of) `problems` in `name`'s installed files. */
export function integrityError(name: string, problems: readonly IntegrityProblem[]): ForgeError {
  const shown = problems.slice(0, 5).map((p) => `  ${p.path}: ${p.problem}`);
  return new ForgeError('FO_STORE_CORRUPT', `installed files of ${name} do not match what was installed (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${shown.join('\n')}`, {
    details: { name, problems },
  });
}
