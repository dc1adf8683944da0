/**
 * What a backend test observes: the code a call failed with, the events a handle emitted.
 * Shared by the conformance suite's files and the backends' own tests.
 */
import assert from 'node:assert/strict';
import { ForgeError, type ErrorCode } from '@forgeone/common';
import type { HandleEvent, PluginHandle } from '../spec.js';

/** The code a promise rejects with, or `ok`. */
export async function codeOf(promise: Promise<unknown>): Promise<ErrorCode | 'ok'> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    assert.ok(ForgeError.is(error), `expected a ForgeError, found ${String(error)}`);
    return error.code;
  }
}

/** The code the guest relayed from a host refusal (FO_ABI_GUEST_ERROR's guestCode), or `ok`. */
export async function guestCodeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    assert.ok(ForgeError.is(error, 'FO_ABI_GUEST_ERROR'), `expected the guest to relay a host error, found ${String(error)}`);
    return String(error.details['guestCode']);
  }
}

/** Every event `handle` emits from now on, in order. */
export function events(handle: PluginHandle): HandleEvent[] {
  const seen: HandleEvent[] = [];
  handle.onEvent((event) => seen.push(event));
  return seen;
}
