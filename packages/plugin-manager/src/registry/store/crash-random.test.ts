/**
 * Store changes killed with SIGKILL at seeded random moments (the harness in
 * @forgeone/common/testing; docs/security.md, "Crash consistency"). Each run starts a
 * child on a fresh store set up for the scenario, waits for its `ready`, kills it after a
 * delay spread over the change's measured duration, then opens the store again: the
 * plugin is at the old state or the new one (the new one when the child reported
 * success), every listed plugin re-verifies byte for byte, staging and trash are empty,
 * and the same change run again completes. Every other run, the store's recovery at open
 * is killed too (a child that opens the store after the first kill, killed at a seeded
 * moment of its open) before those checks.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CrashChild, crashPlan, measureCrashWindow } from '@forgeone/common/testing';
import { SCENARIOS, assertConsistent, assertUsable, jobFor, prepare, world, type Expected, type Scenario, type World } from './test-support/crash-world.js';
import { openStore } from './test-support/fixtures.js';

const CHILD = fileURLToPath(new URL('./test-support/store-child.js', import.meta.url));

/** The loops, and the scenario each kills. */
const LOOPS: readonly [string, Scenario][] = [
  ['install', SCENARIOS['a first install']!],
  ['upgrade', SCENARIOS['an upgrade that drops the oldest version']!],
  ['uninstall', SCENARIOS['an uninstall']!],
];

function child(w: World, scenario: Scenario, openOnly = false): CrashChild {
  return new CrashChild(CHILD, [JSON.stringify(jobFor(w, scenario, openOnly ? { openOnly } : {}))]);
}

/** The child's outcome line said the change completed. */
function acknowledged(lines: readonly string[]): boolean {
  return lines.some((line) => line.startsWith('{"ok":true'));
}

function currentOf(expected: Expected): string | null {
  return expected === null ? null : expected.current;
}

describe('store changes killed at random moments', () => {
  for (const [name, scenario] of LOOPS) {
    const plan = crashPlan(6);
    // Each run starts a child that loads the store's modules: seconds on a loaded machine.
    it(`leaves the old or the new state, verifiable and clean, when ${name} is killed at a seeded random moment`, { timeout: 120_000 + plan.iterations * 10_000 }, async (t: TestContext) => {
      const base = await world();
      const { windowMs, end: calibration } = await measureCrashWindow(async () => child(await prepare(base, scenario), scenario));
      assert.ok(acknowledged(calibration.lines), `the uninterrupted ${name} succeeded: ${calibration.lines.join(' ')}`);
      const { windowMs: openMs } = await measureCrashWindow(async () => child(await prepare(base, scenario), scenario, true));
      const tally = { before: 0, after: 0, acknowledged: 0 };
      // The next run's child is started before this run's checks, so that its start-up
      // (loading the store's modules, about a second on a loaded machine) overlaps them.
      let w = await prepare(base, scenario);
      let running = child(w, scenario);
      for (let run = 0; run < plan.iterations; run += 1) {
        const delay = plan.delay(windowMs);
        const end = await running.killAfter(delay);
        const current = w;
        if (run + 1 < plan.iterations) {
          w = await prepare(base, scenario);
          running = child(w, scenario);
        }
        let label = `${name} run ${run} (${plan.label}), killed after ${delay.toFixed(1)} ms`;
        if (run % 2 === 0) {
          const openDelay = plan.delay(openMs);
          await child(current, scenario, true).killAfter(openDelay);
          label += `, its recovery at open killed after ${openDelay.toFixed(1)} ms`;
        }
        const found = (await (await openStore({ directory: current.directory })).find('hello'))?.version ?? null;
        const done = found === currentOf(scenario.after);
        assert.ok(done || found === currentOf(scenario.before), `${label}: at the old or the new version, found ${found}`);
        if (acknowledged(end.lines)) assert.ok(done, `${label}: the child reported success, so the change is there`);
        const store = await assertConsistent(current.directory, done ? scenario.after : scenario.before, label, scenario.leftData);
        for (const plugin of await store.list()) await store.verify(plugin.name);
        await assertUsable(store, current, scenario, label);
        tally[done ? 'after' : 'before'] += 1;
        if (acknowledged(end.lines)) tally.acknowledged += 1;
      }
      t.diagnostic(`${name} takes ~${windowMs.toFixed(1)} ms; ${plan.label}: ${tally.before} left the old state, ${tally.after} the new (${tally.acknowledged} acknowledged)`);
    });
  }
});
