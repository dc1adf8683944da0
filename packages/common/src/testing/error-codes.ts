/**
 * Assertions on the ForgeError an operation fails with, for ForgeOne's own tests. One
 * copy for every package, so that each failure message says the same thing: the code
 * that was expected and what was found instead (another code and its message, an error
 * that is not a ForgeError, or success).
 *
 * An {@link Attempt} is a promise, or a function to call: what the function throws and
 * what the promise it returns rejects with both count.
 */
import assert from 'node:assert/strict';
import type { ErrorCode } from '../errors/catalog.js';
import { ForgeError } from '../errors/forge-error.js';

/** A promise, or a function whose throw or returned promise's rejection is the outcome. */
export type Attempt = Promise<unknown> | (() => unknown);

/** A failure, described for an assertion message: `FO_X: message`, `TypeError: message`, or the value. */
function describeFailure(error: unknown): string {
  if (error instanceof ForgeError) return `${error.code}: ${error.message}`;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

function asForgeError(error: unknown): ForgeError {
  assert.ok(error instanceof ForgeError, `expected a ForgeError, found ${describeFailure(error)}`);
  return error;
}

/**
 * The ForgeError `attempt` fails with, or undefined when it succeeds.
 * @throws AssertionError when it fails with anything but a ForgeError
 */
export async function forgeErrorOf(attempt: Attempt): Promise<ForgeError | undefined> {
  try {
    await (typeof attempt === 'function' ? attempt() : attempt);
  } catch (error) {
    return asForgeError(error);
  }
  return undefined;
}

/**
 * The ForgeError `run` throws, or undefined when it returns.
 * @throws AssertionError when it throws anything but a ForgeError, or returns a promise
 *   (whose outcome only {@link forgeErrorOf} can wait for)
 */
export function forgeErrorOfSync(run: () => unknown): ForgeError | undefined {
  let result: unknown;
  try {
    result = run();
  } catch (error) {
    return asForgeError(error);
  }
  if (result instanceof Promise) {
    // Settle it here: its rejection would otherwise surface later as an unhandled one.
    void result.catch(() => undefined);
    assert.fail('the function returned a promise: use forgeErrorOf, which waits for it');
  }
  return undefined;
}

/**
 * The code `attempt` fails with, or `'ok'` when it succeeds: compare it with
 * `assert.equal(await codeOf(...), 'FO_X')`.
 * @throws AssertionError when it fails with anything but a ForgeError
 */
export async function codeOf(attempt: Attempt): Promise<ErrorCode | 'ok'> {
  return (await forgeErrorOf(attempt))?.code ?? 'ok';
}

/**
 * The code `run` throws, or `'ok'` when it returns.
 * @throws AssertionError when it throws anything but a ForgeError, or returns a promise
 */
export function codeOfSync(run: () => unknown): ErrorCode | 'ok' {
  return forgeErrorOfSync(run)?.code ?? 'ok';
}

function assertCode(error: ForgeError | undefined, code: ErrorCode, what: string | undefined): ForgeError {
  const prefix = what === undefined ? '' : `${what}: `;
  if (error === undefined) assert.fail(`${prefix}expected ${code}, but it succeeded`);
  assert.equal(error.code, code, `${prefix}expected ${code}, found ${describeFailure(error)}`);
  return error;
}

/**
 * Asserts that `attempt` fails with `code`; returns the error for further checks.
 * @param what names the case in the failure message (for assertions in a loop)
 * @throws AssertionError when it succeeds or fails otherwise
 */
export async function rejectsWithCode(attempt: Attempt, code: ErrorCode, what?: string): Promise<ForgeError> {
  return assertCode(await forgeErrorOf(attempt), code, what);
}

/**
 * Asserts that `run` throws `code`; returns the error for further checks.
 * @param what names the case in the failure message (for assertions in a loop)
 * @throws AssertionError when it returns (or returns a promise) or throws otherwise
 */
export function throwsCode(run: () => unknown, code: ErrorCode, what?: string): ForgeError {
  return assertCode(forgeErrorOfSync(run), code, what);
}

/**
 * A validator for `assert.throws` and `assert.rejects`: the error must be a ForgeError
 * with `code` and, for each key of `details`, a deeply equal `details[key]`. It asserts
 * with a message saying what it found rather than answering false.
 */
export function hasCode(code: ErrorCode, details: Readonly<Record<string, unknown>> = {}): (error: unknown) => true {
  return (error: unknown): true => {
    const found = assertCode(asForgeError(error), code, undefined);
    for (const [key, value] of Object.entries(details)) assert.deepEqual(found.details[key], value, `details.${key} of ${describeFailure(found)}`);
    return true;
  };
}
