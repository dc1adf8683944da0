import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ForgeError } from '@forgeone/common';
import type { EntryPointName } from '../plugin/index.js';
import { LifecycleController, type Transition } from './controller.js';
import { PluginState } from './state.js';

function target(behaviour: Partial<Record<EntryPointName, () => Promise<boolean>>> = {}) {
  const ran: EntryPointName[] = [];
  return {
    ran,
    lifecycle: (step: EntryPointName) => {
      ran.push(step);
      return behaviour[step]?.() ?? Promise.resolve(true);
    },
  };
}

function controller(behaviour: Partial<Record<EntryPointName, () => Promise<boolean>>> = {}, timeoutMs = 1000) {
  const t = target(behaviour);
  const transitions: Transition[] = [];
  const c = new LifecycleController('demo', t, { timeoutMs, observer: (transition) => transitions.push(transition) });
  return { c, ran: t.ran, transitions };
}

describe('lifecycle controller', () => {
  it('walks init, start, pause, resume, stop, unload and reports every transition', async () => {
    const { c, ran, transitions } = controller();
    await c.initialize();
    await c.start();
    await c.pause();
    await c.resume();
    await c.stop();
    await c.unload();
    assert.deepEqual(ran, ['init', 'start', 'pause', 'resume', 'stop', 'unload']);
    assert.deepEqual(
      transitions.map((t) => `${t.from}->${t.to}`),
      ['created->initializing', 'initializing->ready', 'ready->running', 'running->paused', 'paused->running', 'running->stopping', 'stopping->stopped', 'stopped->unloaded'],
    );
    assert.equal(c.state, PluginState.Unloaded);
  });

  it('fails the plugin when an entry point fails, with the error in the transition', async () => {
    let attempts = 0;
    const { c, transitions } = controller({ init: () => (++attempts === 1 ? Promise.reject(new ForgeError('FO_ABI_LIFECYCLE_FAILED', 'init returned 3')) : Promise.resolve(true)) });
    await assert.rejects(c.initialize(), (error: unknown) => ForgeError.is(error, 'FO_ABI_LIFECYCLE_FAILED'));
    assert.equal(c.state, PluginState.Failed);
    assert.equal(transitions.at(-1)?.error?.code, 'FO_ABI_LIFECYCLE_FAILED');
    await c.initialize();
    assert.equal(c.state, PluginState.Ready, 'a failed plugin can be initialised again');
  });

  it("counts a preparing target's limit from the entry point's start: a slow instance creation is not the plugin's time", async () => {
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const ran: string[] = [];
    const c = new LifecycleController(
      'demo',
      {
        preparesFirst: true,
        lifecycle: async (step, started) => {
          await sleep(120); // the host creates the instance: four times the plugin's limit
          started();
          ran.push(step);
          await sleep(5);
          return true;
        },
      },
      { timeoutMs: 30 },
    );
    await c.initialize();
    assert.equal(c.state, PluginState.Ready);
    assert.deepEqual(ran, ['init']);
  });

  it('fails a preparing target whose entry point runs past its limit once started, and one whose preparation passes prepareTimeoutMs', async () => {
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const slowStep = new LifecycleController('demo', { preparesFirst: true, lifecycle: async (_step, started) => (started(), await sleep(200), true) }, { timeoutMs: 30 });
    await assert.rejects(slowStep.initialize(), (error: unknown) => ForgeError.is(error, 'FO_LIFECYCLE_TIMEOUT') && /init entry point did not finish within 30 ms/.test(error.message));
    assert.equal(slowStep.state, PluginState.Failed);
    const stuck = new LifecycleController('demo', { preparesFirst: true, lifecycle: () => new Promise(() => undefined) }, { timeoutMs: 30, prepareTimeoutMs: 80 });
    await assert.rejects(
      stuck.initialize(),
      (error: unknown) => ForgeError.is(error, 'FO_LIFECYCLE_TIMEOUT') && /instance was not ready for the init entry point within 80 ms/.test(error.message) && error.details?.['timeoutMs'] === 80,
    );
    assert.equal(stuck.state, PluginState.Failed);
  });

  it('fails an entry point that exceeds its time limit with FO_LIFECYCLE_TIMEOUT', async () => {
    const { c } = controller({ start: () => new Promise(() => undefined) }, 30);
    await c.initialize();
    await assert.rejects(c.start(), (error: unknown) => ForgeError.is(error, 'FO_LIFECYCLE_TIMEOUT') && /start entry point did not finish within 30 ms/.test(error.message));
    assert.equal(c.state, PluginState.Failed);
  });

  it('refuses illegal steps with FO_LIFECYCLE_BAD_TRANSITION and leaves the state alone', async () => {
    const { c } = controller();
    await assert.rejects(c.start(), (error: unknown) => ForgeError.is(error, 'FO_LIFECYCLE_BAD_TRANSITION'));
    await assert.rejects(c.pause(), (error: unknown) => ForgeError.is(error, 'FO_LIFECYCLE_BAD_TRANSITION'));
    assert.equal(c.state, PluginState.Created);
  });

  it('makes calls to a paused plugin wait for resume', async () => {
    const { c } = controller();
    await c.initialize();
    await c.start();
    await c.pause();
    let entered = false;
    const waiting = c.callable(1000).then(() => (entered = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(entered, false);
    await c.resume();
    await waiting;
    assert.equal(entered, true);
  });

  it('fails a call that waits longer than its limit with FO_LIFECYCLE_PAUSED, and refuses calls when not running', async () => {
    const { c } = controller();
    await assert.rejects(c.callable(10), (error: unknown) => ForgeError.is(error, 'FO_LIFECYCLE_NOT_RUNNING'));
    await c.initialize();
    await c.start();
    await c.pause();
    await assert.rejects(c.callable(20), (error: unknown) => ForgeError.is(error, 'FO_LIFECYCLE_PAUSED'));
    const waiting = c.callable(1000);
    await c.stop();
    await assert.rejects(waiting, (error: unknown) => ForgeError.is(error, 'FO_LIFECYCLE_NOT_RUNNING'), 'stopping releases waiting calls');
  });

  it('quarantines from any live state and then only unloads, without running unload', async () => {
    const { c, ran } = controller();
    await c.initialize();
    c.quarantine(new ForgeError('FO_LIFECYCLE_QUARANTINED', 'crashed 5 times'));
    assert.equal(c.state, PluginState.Quarantined);
    await assert.rejects(c.start(), (error: unknown) => ForgeError.is(error, 'FO_LIFECYCLE_BAD_TRANSITION'));
    await c.unload();
    assert.deepEqual(ran, ['init']);
    assert.equal(c.state, PluginState.Unloaded);
  });

  it('serialises steps: a second step waits for the first', async () => {
    let release: () => void = () => undefined;
    const { c } = controller({ init: () => new Promise((resolve) => (release = () => resolve(true))) });
    const init = c.initialize();
    const start = c.start();
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(c.state, PluginState.Initializing);
    release();
    await init;
    await start;
    assert.equal(c.state, PluginState.Running);
  });
});
