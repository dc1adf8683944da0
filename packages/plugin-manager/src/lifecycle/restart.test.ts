import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CrashHistory } from './restart.js';

const config = { restart: 'on-failure' as const, max_restarts: 3, restart_backoff: 100, restart_backoff_max: 300, quarantine_after: 5, crash_window: 60_000 };

describe('restart policy', () => {
  it('restarts with exponential backoff, capped, then gives up', () => {
    const history = new CrashHistory();
    assert.deepEqual(history.decide(config, 0), { action: 'restart', delayMs: 100, attempt: 1 });
    assert.deepEqual(history.decide(config, 1000), { action: 'restart', delayMs: 200, attempt: 2 });
    assert.deepEqual(history.decide(config, 2000), { action: 'restart', delayMs: 300, attempt: 3 });
    assert.deepEqual(history.decide(config, 3000), { action: 'give-up', reason: 'gave up after 3 restarts' });
  });

  it('quarantines after repeated crashes within the window, whatever the restart count', () => {
    const history = new CrashHistory();
    const lenient = { ...config, max_restarts: 100 };
    for (let i = 0; i < 4; i += 1) {
      assert.equal(history.decide(lenient, i * 10).action, 'restart');
      history.recovered();
    }
    const decision = history.decide(lenient, 50);
    assert.equal(decision.action, 'quarantine');
  });

  it('forgets crashes older than the window', () => {
    const history = new CrashHistory();
    for (let i = 0; i < 4; i += 1) history.decide({ ...config, max_restarts: 100 }, i);
    assert.equal(history.decide({ ...config, max_restarts: 100 }, 120_000).action, 'restart');
  });

  it('honours restart: no, and restarts a plugin whose lifecycle step failed only with always', () => {
    assert.equal(new CrashHistory().decide({ ...config, restart: 'no' }, 0).action, 'give-up');
    assert.equal(new CrashHistory().decide(config, 0, true).action, 'give-up');
    assert.equal(new CrashHistory().decide({ ...config, restart: 'always' }, 0, true).action, 'restart');
  });
});
