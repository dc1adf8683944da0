/**
 * Runs a suite both ways the chain can be checked and filled: with the native module
 * (skipped, with the reason, where it was not built) and in JS alone (setNativeChain(false)),
 * so that every answer is asserted for both. The suites of one file run one after the
 * other, so the switch (one per thread; workers follow the thread that starts them)
 * holds for each suite's tests.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe } from 'node:test';
import { fileURLToPath } from 'node:url';
import { nativeChain, setNativeChain } from '../native.js';

/** Whether dist/native/chain-fill.node was built (no C compiler: it was not, and only JS runs). */
export const nativeBuilt = existsSync(fileURLToPath(new URL('../../native/chain-fill.node', import.meta.url)));

/** Skips a test or suite that needs the native module where it was not built. */
export const needsNative = nativeBuilt ? {} : { skip: 'native/chain-fill.node was not built (no C compiler): only the JS path exists' };

/** `describe(name, body)` twice: "(native chain)" and "(JS chain)". */
export function describeBothChains(name: string, body: () => void): void {
  describe(`${name} (native chain)`, needsNative, () => {
    before(() => {
      setNativeChain(true);
      assert.equal(nativeChain(), true, 'the native module was built but does not load');
    });
    body();
  });
  describe(`${name} (JS chain)`, () => {
    before(() => setNativeChain(false));
    after(() => setNativeChain(true));
    body();
  });
}
