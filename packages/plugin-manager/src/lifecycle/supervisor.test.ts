import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { ForgeError, silentLogger } from '@forgeone/common';
import { LifecycleController } from './controller.js';
import { PluginState } from './state.js';
import { Supervisor, type RestartSettings, type Supervised } from './supervisor.js';

const settings: RestartSettings = { restart: 'on-failure', max_restarts: 3, restart_backoff: 10, restart_backoff_max: 40, quarantine_after: 3, crash_window: 60_000 };
const trap = (): ForgeError => new ForgeError('FO_ABI_GUEST_TRAP', 'the guest trapped');

async function running(supervisor: Supervisor, id = 'p'): Promise<Supervised & { unloaded: number }> {
  const plugin = {
    id,
    controller: new LifecycleController(id, { lifecycle: () => Promise.resolve(false) }, { timeoutMs: 1000 }),
    crashes: supervisor.history(),
    unloaded: 0,
    handle: undefined as Supervised['handle'],
    restartTimer: undefined as NodeJS.Timeout | undefined,
  };
  plugin.handle = { unload: () => Promise.resolve(void (plugin.unloaded += 1)) };
  await plugin.controller.initialize();
  await plugin.controller.start();
  return plugin;
}

describe('Supervisor', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  function supervisor(isCurrent: () => boolean, restarted: string[], overrides: Partial<RestartSettings> = {}): Supervisor {
    return new Supervisor({
      settings: { ...settings, ...overrides },
      clock: () => 0,
      logger: silentLogger,
      restart: (id) => Promise.resolve(void restarted.push(id)),
      isCurrent,
    });
  }

  it('fails a crashed plugin, discards its instance, and restarts it when the backoff is over', async () => {
    const restarted: string[] = [];
    const watch = supervisor(() => true, restarted);
    const plugin = await running(watch);
    assert.equal(watch.isCrash(trap()), true);
    assert.equal(watch.isCrash(new ForgeError('FO_ABI_HOST_DENIED', 'refused')), false, 'a refusal is not a crash');
    watch.crashed(plugin, trap());
    assert.equal(plugin.controller.state, PluginState.Failed);
    assert.deepEqual([plugin.handle, plugin.unloaded], [undefined, 1]);
    mock.timers.tick(9);
    assert.deepEqual(restarted, [], 'not before restart_backoff');
    mock.timers.tick(1);
    assert.deepEqual(restarted, ['p']);
  });

  it('does not restart a plugin that was unloaded or replaced under its id before its restart was due', async () => {
    const restarted: string[] = [];
    let current = true;
    const watch = supervisor(() => current, restarted);
    const plugin = await running(watch);
    watch.crashed(plugin, trap());
    current = false;
    mock.timers.tick(10);
    assert.deepEqual(restarted, []);
    const released = await running(watch, 'q');
    current = true;
    watch.crashed(released, trap());
    watch.release(released);
    mock.timers.tick(10);
    assert.deepEqual(restarted, [], 'release cancels the scheduled restart');
  });

  it('quarantines a plugin that crashes quarantine_after times within crash_window, and retries a failed start only with restart: always', async () => {
    const restarted: string[] = [];
    const watch = supervisor(() => true, restarted, { quarantine_after: 1 });
    const plugin = await running(watch);
    watch.crashed(plugin, trap());
    assert.equal(plugin.controller.state, PluginState.Quarantined);
    const onFailure = supervisor(() => true, restarted);
    const failed = await running(onFailure, 'f');
    failed.controller.fail(trap());
    onFailure.startFailed(failed, trap());
    const always = supervisor(() => true, restarted, { restart: 'always' });
    const retried = await running(always, 'a');
    retried.controller.fail(trap());
    always.startFailed(retried, trap());
    mock.timers.tick(10);
    assert.deepEqual(restarted, ['a']);
  });
});
