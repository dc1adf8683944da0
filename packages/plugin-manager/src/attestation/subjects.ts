/**
 * Does a verified statement describe this package? Every file outside attestations/
 * must be a subject with the same sha256, every subject must be in the package, and
 * the predicate must say what the signed manifest says.
 */
import { ForgeError, describeValue } from '@forgeone/common';
import { isSignedContent, type PackageContents } from '../loader/index.js';
import { predicateFor, predicateMatches, type PluginStatement } from './statement.js';

/** Largest number of file names listed in an error's details. */
const MAX_LISTED = 50;

/**
 * @throws ForgeError FO_VERIFY_WRONG_PACKAGE, FO_VERIFY_DIGEST_MISMATCH, FO_VERIFY_FILE_MISSING,
 *   FO_VERIFY_FILE_UNSIGNED, FO_VERIFY_STATEMENT_INVALID
 */
export function checkSubjects(statement: PluginStatement, contents: PackageContents, source: string): void {
  const { predicate } = statement;
  const { manifest } = contents;
  if (predicate.name !== manifest.name || predicate.version !== manifest.version) {
    throw new ForgeError(
      'FO_VERIFY_WRONG_PACKAGE',
      `${source} signs ${describeValue(predicate.name)} ${describeValue(predicate.version)}, but this package is ${describeValue(manifest.name)} ${describeValue(manifest.version)}; the signature belongs to another package`,
      { details: { attestation: source, signed: { name: predicate.name, version: predicate.version }, package: { name: manifest.name, version: manifest.version } } },
    );
  }
  const signed = new Map(statement.subjects.map((subject) => [subject.name, subject.sha256]));
  const present = new Map(contents.files.filter((file) => isSignedContent(file.path)).map((file) => [file.path, file.sha256]));
  const changed = [...present].filter(([path, sha]) => signed.has(path) && signed.get(path) !== sha).map(([path]) => path);
  const missing = [...signed.keys()].filter((path) => !present.has(path));
  const added = [...present.keys()].filter((path) => !signed.has(path));
  const details = { attestation: source, changed: changed.slice(0, MAX_LISTED), missing: missing.slice(0, MAX_LISTED), added: added.slice(0, MAX_LISTED) };
  if (changed.length > 0) {
    const first = changed[0] as string;
    throw new ForgeError(
      'FO_VERIFY_DIGEST_MISMATCH',
      `${describeValue(first)} has sha256 ${present.get(first) ?? ''}, but ${source} signs ${signed.get(first) ?? ''}${changed.length > 1 ? ` (${changed.length} files differ)` : ''}`,
      { details },
    );
  }
  if (missing.length > 0) {
    throw new ForgeError('FO_VERIFY_FILE_MISSING', `${source} signs ${describeValue(missing[0])}, which the package does not contain${missing.length > 1 ? ` (${missing.length} files missing)` : ''}`, {
      details,
    });
  }
  if (added.length > 0) {
    throw new ForgeError('FO_VERIFY_FILE_UNSIGNED', `the package holds ${describeValue(added[0])}, which ${source} does not sign${added.length > 1 ? ` (${added.length} unsigned files)` : ''}`, {
      details,
    });
  }
  if (!predicateMatches(predicate, contents)) {
    throw new ForgeError('FO_VERIFY_STATEMENT_INVALID', `${source}: the predicate disagrees with the signed manifest.json (abi, digests or permissions differ)`, {
      details: { attestation: source, signed: predicate, expected: predicateFor(contents) },
    });
  }
}
