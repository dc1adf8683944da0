import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requireTool } from '@forgeone/common/testing';
import { HOSTILE_GUESTS } from './test-support/load-guests.js';
import { countAudit, loadProblems } from './test-support/load-check.js';
import { runLoad } from './test-support/load.js';

// The bounded version of issue 17's load test; bench/load.mjs runs the full one (100
// plugins, 1,000 calls in flight, 60 s) and measures latency. Nothing here is timed.
// The process backend starts one confined sandbox per plugin: fewer of them keep the test short.
const SIZES = { inline: { goodPlugins: 20, inFlight: 100 }, pool: { goodPlugins: 20, inFlight: 100 }, process: { goodPlugins: 8, inFlight: 40 } } as const;

describe('load beside hostile neighbours', () => {
  for (const backend of ['inline', 'pool', 'process'] as const) {
    const { goodPlugins, inFlight } = SIZES[backend];
    it(`${backend}: ${inFlight} calls in flight across ${goodPlugins} plugins beside ${HOSTILE_GUESTS.length} hostile ones: every good call answers and is audited, the chain verifies, each hostile plugin is stopped by its own limit`, async (t) => {
      // The process backend needs bubblewrap: skipped with the reason without it, a failure under CI.
      if (backend === 'process' && !requireTool(t, 'bwrap')) return;
      const run = await runLoad({ backend, goodPlugins, inFlight, durationMs: 3000 });
      try {
        const audit = await countAudit(run);
        assert.deepEqual(loadProblems(run, audit), []);
        assert.equal(audit.verification.signatures, 'verified', 'the log was checkpointed and its signatures checked');
        // Every hostile plugin that could be loaded was called, and the load reached every good plugin.
        for (const hostile of run.hostile) assert.ok(hostile.refusedAtLoad !== undefined || hostile.calls > 0, `${hostile.name} was called`);
        for (const [name, good] of run.good) assert.ok(good.ok > 1, `${name} answered calls under load (${good.ok})`);
      } finally {
        await run.cleanup();
      }
    });
  }
});
