/**
 * Turns what the tuf-js client throws into ForgeErrors with one code per attack.
 *
 * tuf-js exports none of its error classes, and its Updater wraps every failure of the
 * snapshot and targets steps in a RuntimeError whose message embeds the original
 * (`Unable to load snapshot metadata error Error: <message>`). So errors are told
 * apart by class name and, inside those wrappers, by tuf-js's own messages. Both are
 * pinned by the exact tuf-js version in package.json; client.test.ts drives every
 * attack against a real repository and asserts its code, so an upgrade that changes a
 * message fails a test instead of silently blurring two attacks into one.
 */
import { ForgeError, type ErrorCode } from '@forgeone/common';

/** Where the failure happened: refreshing metadata, or downloading the index it names. */
export type TufStage = 'metadata' | 'target';

const WRAPPED = /^Unable to load (snapshot metadata|targets) error (?:[A-Za-z]*Error: )?([\s\S]*)$/;

/** Codes by tuf-js message, for the errors the Updater wraps (and a few it does not). */
const BY_MESSAGE: readonly (readonly [RegExp, ErrorCode, string])[] = [
  [/^Final timestamp\.json is expired/, 'FO_MARKET_FROZEN', 'the newest timestamp metadata has expired'],
  [/is expired$/, 'FO_MARKET_EXPIRED', 'metadata has expired'],
  [/is less than current version|^Expected version \d+, got \d+/, 'FO_MARKET_ROLLBACK', 'metadata is older than what this client already trusted'],
  [/doesn't match timestamp|does not match snapshot version|^Expected length \d+ but got \d+|^Expected hash /, 'FO_MARKET_MIX_AND_MATCH', 'metadata is not the version, length or hash its parent names'],
  [/was signed by \d+\/\d+ keys/, 'FO_MARKET_BAD_SIGNATURE', 'metadata is not signed by enough trusted keys'],
  [/^Max length reached/, 'FO_MARKET_METADATA_TOO_LARGE', 'a metadata file is larger than its limit'],
  [/^Failed to download/, 'FO_MARKET_UNREACHABLE', 'a file could not be downloaded'],
];

function byClass(name: string, message: string, stage: TufStage): ErrorCode | undefined {
  switch (name) {
    case 'ExpiredMetadataError':
      return /timestamp/.test(message) ? 'FO_MARKET_FROZEN' : 'FO_MARKET_EXPIRED';
    case 'BadVersionError':
    case 'EqualVersionError':
      return 'FO_MARKET_ROLLBACK';
    case 'UnsignedMetadataError':
      return 'FO_MARKET_BAD_SIGNATURE';
    case 'LengthOrHashMismatchError':
      return stage === 'target' ? 'FO_MARKET_TARGET_MISMATCH' : 'FO_MARKET_MIX_AND_MATCH';
    case 'DownloadLengthMismatchError':
      // A target longer than its signed length is a tampered target; metadata past its cap is a limit.
      return stage === 'target' ? 'FO_MARKET_TARGET_MISMATCH' : 'FO_MARKET_METADATA_TOO_LARGE';
    case 'DownloadHTTPError':
    case 'FetchError':
    case 'AbortError':
      return 'FO_MARKET_UNREACHABLE';
    default:
      return undefined;
  }
}

/**
 * The ForgeError for a tuf-js failure.
 *
 * @param url the marketplace, for the message
 */
export function tufError(error: unknown, stage: TufStage, url: string): ForgeError {
  if (error instanceof ForgeError) return error;
  const name = error instanceof Error ? error.constructor.name : 'unknown';
  const message = error instanceof Error ? error.message : String(error);
  const wrapped = WRAPPED.exec(message);
  const inner = wrapped?.[2] ?? message;
  const role = wrapped === null ? undefined : wrapped[1] === 'targets' ? 'targets' : 'snapshot';
  const fromClass = wrapped === null ? byClass(name, message, stage) : undefined;
  const fromMessage = BY_MESSAGE.find(([pattern]) => pattern.test(inner));
  const code: ErrorCode = fromClass ?? fromMessage?.[1] ?? 'FO_MARKET_METADATA_INVALID';
  const what = fromMessage?.[2] ?? (code === 'FO_MARKET_METADATA_INVALID' ? 'metadata is not well-formed TUF metadata' : code.slice('FO_MARKET_'.length).toLowerCase().replaceAll('_', ' '));
  const status = typeof (error as { statusCode?: unknown }).statusCode === 'number' ? (error as { statusCode: number }).statusCode : undefined;
  return new ForgeError(code, `marketplace ${url}: ${what}${role === undefined ? '' : ` (${role})`}: ${inner}${status === undefined ? '' : ` (HTTP ${status})`}`, {
    details: { url, stage, ...(role === undefined ? {} : { role }), tuf: { error: name, message: inner }, ...(status === undefined ? {} : { status }) },
    cause: error,
  });
}
