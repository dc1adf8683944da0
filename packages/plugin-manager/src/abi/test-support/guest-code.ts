/**
 * The code a guest relayed from a host refusal. A relay guest returns the host's packed
 * error as its own result, so the host's refusal reaches the caller as
 * FO_ABI_GUEST_ERROR with the host's code in `details.guestCode` (and its message in
 * `details.guestMessage`); these read them.
 * Shared by the ABI, host-call, backend and registry tests.
 */
import assert from 'node:assert/strict';
import type { ForgeError } from '@forgeone/common';
import { forgeErrorOf, forgeErrorOfSync, type Attempt } from '@forgeone/common/testing';

/** What the guest relayed: the host's code and message; `ok` and an empty message when the call succeeded. */
export interface RelayedFailure {
  readonly code: string;
  readonly message: string;
}

function relayed(error: ForgeError | undefined): RelayedFailure {
  if (error === undefined) return { code: 'ok', message: '' };
  assert.equal(error.code, 'FO_ABI_GUEST_ERROR', `expected the guest to relay a host error, found ${error.code}: ${error.message}`);
  return { code: String(error.details['guestCode']), message: String(error.details['guestMessage']) };
}

/**
 * The host's code the guest relayed, or `ok` when the call succeeds.
 * @throws AssertionError when the call fails otherwise than with FO_ABI_GUEST_ERROR
 */
export async function guestCodeOf(attempt: Attempt): Promise<string> {
  return relayed(await forgeErrorOf(attempt)).code;
}

/**
 * The host's code the guest relayed, or `ok` when the synchronous call returns.
 * @throws AssertionError when the call fails otherwise than with FO_ABI_GUEST_ERROR
 */
export function guestCodeOfSync(run: () => unknown): string {
  return guestFailureOfSync(run).code;
}

/**
 * The host's code and message the guest relayed, or `ok` when the synchronous call returns.
 * @throws AssertionError when the call fails otherwise than with FO_ABI_GUEST_ERROR
 */
export function guestFailureOfSync(run: () => unknown): RelayedFailure {
  return relayed(forgeErrorOfSync(run));
}
