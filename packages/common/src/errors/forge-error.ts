import { ERROR_CATALOG, isErrorCode, type ErrorCode } from './catalog.js';
import type { ErrorKind } from './kinds.js';

/** Structured, JSON-safe facts about a failure (paths, limits, offending values). */
export type ErrorDetails = Readonly<Record<string, unknown>>;

/** Options for {@link ForgeError}. */
export interface ForgeErrorOptions {
  /** Machine-readable facts for `--json` output and API responses. */
  readonly details?: ErrorDetails;
  /** The lower-level error that caused this one. Never serialised. */
  readonly cause?: unknown;
}

/** The serialised form of a {@link ForgeError}, as printed by `--json` and the API. */
export interface ForgeErrorJSON {
  readonly code: ErrorCode;
  readonly kind: ErrorKind;
  readonly message: string;
  readonly details?: ErrorDetails;
}

/**
 * The one error type ForgeOne throws on purpose.
 *
 * `code` is stable and documented in docs/reference/errors.md; `kind` follows from the
 * code. Messages say what was expected and what was found. Anything else thrown out
 * of ForgeOne is a bug, reported as FO_INTERNAL_UNEXPECTED by {@link toForgeError}.
 */
export class ForgeError extends Error {
  readonly code: ErrorCode;
  readonly kind: ErrorKind;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, options: ForgeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ForgeError';
    this.code = code;
    this.kind = ERROR_CATALOG[code].kind;
    this.details = options.details ?? {};
  }

  /** True when `value` is a ForgeError, optionally with the given code. */
  static is(value: unknown, code?: ErrorCode): value is ForgeError {
    return value instanceof ForgeError && (code === undefined || value.code === code);
  }

  /**
   * Rebuilds an error from its JSON form, for errors that crossed a thread or
   * process boundary. An unknown code becomes FO_INTERNAL_UNEXPECTED.
   */
  static fromJSON(json: unknown): ForgeError {
    const record = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
    const message = typeof record['message'] === 'string' ? record['message'] : 'unknown error';
    const details =
      typeof record['details'] === 'object' && record['details'] !== null
        ? (record['details'] as ErrorDetails)
        : {};
    if (!isErrorCode(record['code'])) {
      return new ForgeError('FO_INTERNAL_UNEXPECTED', `unrecognised error: ${message}`, { details });
    }
    return new ForgeError(record['code'], message, { details });
  }

  toJSON(): ForgeErrorJSON {
    const base = { code: this.code, kind: this.kind, message: this.message };
    return Object.keys(this.details).length === 0 ? base : { ...base, details: this.details };
  }
}

/**
 * Wraps anything thrown into a ForgeError: a ForgeError passes through unchanged,
 * anything else becomes FO_INTERNAL_UNEXPECTED with the original as `cause`.
 */
export function toForgeError(error: unknown): ForgeError {
  if (error instanceof ForgeError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ForgeError('FO_INTERNAL_UNEXPECTED', message, { cause: error });
}
