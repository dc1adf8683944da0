/**
 * The code a guest relayed from a host refusal. A relay guest returns the host's packed
 * error as its own result, so the host's refusal reaches the caller as
 * FO_ABI_GUEST_ERROR with the host's code in `details.guestCode`; these read that code.
 * Shared by the ABI, host-call, backend and registry tests.
 */
import assert from 'node:assert/strict';
import type { ForgeError } from '@forgeone/common';
import { forgeErrorOf, forgeErrorOfSync, type Attempt } from '@forgeone/common/testing';

function relayed(error: ForgeError | undefined): string {
  if (error === undefined) return 'ok';
  assert.equal(error.code, 'FO_ABI_GUEST_ERROR', `expected the guest to relay a host error, found ${error.code}: ${error.message}`);
  return String(error.details['guestCode']);
}

/**
 * The host's code the guest relayed, or `ok` when the call succeeds.
 * @throws AssertionError when the call fails otherwise than with FO_ABI_GUEST_ERROR
 */
export async function guestCodeOf(attempt: Attempt): Promise<string> {
  return relayed(await forgeErrorOf(attempt));
}

/**
 * The host's code the guest relayed, or `ok` when the synchronous call returns.
 * @throws AssertionError when the call fails otherwise than with FO_ABI_GUEST_ERROR
 */
export function guestCodeOfSync(run: () => unknown): string {
  return relayed(forgeErrorOfSync(run));
}
