/**
 * What `forge lint` reports: a list of problems, each with a stable catalog code, a
 * severity, a message saying what was expected and what was found, and where. Checks
 * add to one {@link LintReport} and never stop at the first problem.
 */
import { ForgeError, type ErrorCode } from '@forgeone/common';

/** `error` fails the lint; `warning` is shown but does not. */
export type LintSeverity = 'error' | 'warning';

/** One problem found in a plugin. */
export interface LintProblem {
  /** A `FO_LINT_*` code from the error catalog. */
  readonly code: ErrorCode;
  readonly severity: LintSeverity;
  /** What was expected and what was found. */
  readonly message: string;
  /** Where: a file (`plugin.toml`, `manifest.json`, `plugin.wasm`), and inside it an export, import or field (`plugin.wasm: export forge_alloc`). */
  readonly where: string;
  /** Machine-readable facts (the underlying error's code as `cause`, limits, paths). */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** Collects problems in the order the checks find them. */
export class LintReport {
  readonly problems: LintProblem[] = [];

  /** Adds one problem. */
  add(code: ErrorCode, severity: LintSeverity, where: string, message: string, details?: Readonly<Record<string, unknown>>): void {
    this.problems.push({ code, severity, where, message, ...(details === undefined ? {} : { details }) });
  }

  /** Adds an error for `error`, a failure of the reader, parser or verifier lint reuses; its code becomes `details.cause`. */
  addCause(code: ErrorCode, where: string, error: unknown, severity: LintSeverity = 'error'): void {
    if (!(error instanceof ForgeError)) throw error;
    this.add(code, severity, where, error.message, { cause: error.code, ...error.details });
  }

  /** True when no problem is an error. */
  get ok(): boolean {
    return this.problems.every((problem) => problem.severity !== 'error');
  }
}

/** The codes of the loader's size limits, which lint reports as FO_LINT_TOO_LARGE. */
export const SIZE_CODES: ReadonlySet<string> = new Set([
  'FO_PACKAGE_TOO_LARGE',
  'FO_PACKAGE_UNPACKED_TOO_LARGE',
  'FO_PACKAGE_ENTRY_TOO_LARGE',
  'FO_PACKAGE_TOO_MANY_ENTRIES',
  'FO_PACKAGE_COMPRESSION_RATIO',
  'FO_MANIFEST_TOO_LARGE',
  'FO_RUNTIME_MODULE_TOO_LARGE',
  'FO_RUNTIME_TOO_MANY_FUNCTIONS',
  'FO_RUNTIME_FUNCTION_TOO_LARGE',
  'FO_RUNTIME_TOO_MANY_LOCALS',
]);
