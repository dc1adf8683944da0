import assert from 'node:assert/strict';

/** How long {@link until} waits at most: 1000 checks 5 ms apart, about 5 s. */
const CHECKS = 1000;
const INTERVAL_MS = 5;

/**
 * Waits until `check` holds (a restart, a quarantine: things the registry does in the
 * background), polling every 5 ms. It asserts nothing about how long that took.
 * @throws AssertionError `timed out waiting for <what>` after about 5 s
 */
export async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < CHECKS; i += 1) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS));
  }
  assert.fail(`timed out waiting for ${what}`);
}
