/**
 * Killing a process in the middle of a store change at every named step, then opening
 * the store again: the plugin is always at the old state or the new one, its files
 * verify against the package digests, nothing is left behind, and the store keeps
 * working. Kills at random moments: crash-random.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { runChild } from './test-support/children.js';
import { SCENARIOS, assertConsistent, assertUsable, jobFor, prepare, stepsOf, world } from './test-support/crash-world.js';

describe('store changes killed at every step', () => {
  for (const [name, scenario] of Object.entries(SCENARIOS)) {
    it(`leaves the old or the new state when ${name} is killed at any step`, async (t: TestContext) => {
      const base = await world();
      const steps = await stepsOf(base, scenario);
      assert.ok(steps.includes(`${scenario.commitStep}:1`), `the commit step ${scenario.commitStep} is among ${steps.join(', ')}`);
      const commitAt = steps.indexOf(`${scenario.commitStep}:1`);
      for (const [index, step] of steps.entries()) {
        const w = await prepare(base, scenario);
        const end = runChild(jobFor(w, scenario, { crashAt: step }));
        assert.equal(end.signal, 'SIGKILL', `the child reached ${step} and died there (${end.stderr}${JSON.stringify(end.outcome)})`);
        const expected = index < commitAt ? scenario.before : scenario.after;
        const store = await assertConsistent(w.directory, expected, `killed at ${step}`, scenario.leftData);
        await assertUsable(store, w, scenario, `killed at ${step}`);
      }
      t.diagnostic(`${name}: killed at ${steps.length} steps: ${steps.join(' ')}`);
    });
  }
});
