import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { rejectsWithCode } from '@forgeone/common/testing';
import { META_DIR } from './layout.js';
import { StoreLock, isOwnerAlive, type StoreLockOwner } from './lock.js';
import { LiveChild, runChild } from './test-support/children.js';
import { NOW, makeSigned, openStore, tempDir, writeTrustDir } from './test-support/fixtures.js';
import type { ChildOutcome } from './test-support/store-child.js';

function owner(overrides: Partial<StoreLockOwner>): StoreLockOwner {
  return { pid: process.pid, host: hostname(), boot: '', start: '', token: 'someone-else', operation: 'install other', since: new Date(NOW).toISOString(), ...overrides };
}

async function lockPath(): Promise<string> {
  return join(await tempDir('forge-lock-'), 'lock');
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('StoreLock', () => {
  it('is exclusive: a second acquisition fails with the holder in the details, and works after release', async () => {
    const path = await lockPath();
    const first = await StoreLock.acquire(path, { operation: 'install a' });
    const error = await rejectsWithCode(StoreLock.acquire(path, { operation: 'install b' }), 'FO_STORE_LOCKED');
    const holder = error.details['holder'] as StoreLockOwner;
    assert.equal(holder.pid, process.pid);
    assert.equal(holder.operation, 'install a');
    assert.match(error.message, /locked by process \d+ on .* \(install a, since /);
    await first.release();
    const second = await StoreLock.acquire(path, { operation: 'install b' });
    await second.release();
    assert.equal(existsSync(path), false);
  });

  it('waits for a lock released within lockWait', async () => {
    const path = await lockPath();
    const first = await StoreLock.acquire(path, { operation: 'first' });
    const waiting = StoreLock.acquire(path, { operation: 'second', waitMs: 60_000, pollMs: 5 });
    setTimeout(() => void first.release(), 20);
    const second = await waiting;
    assert.equal(second.owner.operation, 'second');
    await second.release();
  });

  it('breaks the lock of a process that has died', async () => {
    const path = await lockPath();
    await writeFile(path, JSON.stringify(owner({ pid: deadPid(), token: 'dead' })));
    const lock = await StoreLock.acquire(path, { operation: 'after a crash' });
    assert.equal((JSON.parse(await readFile(path, 'utf8')) as StoreLockOwner).token, lock.owner.token);
    await lock.release();
  });

  it('a breaker left by a process killed while it broke a dead lock is removed by the next recovery; a live one is kept', async () => {
    const store = await openStore();
    const meta = join(store.directory, META_DIR);
    const breaker = join(meta, 'lock.break');
    await writeFile(breaker, JSON.stringify(owner({ pid: deadPid(), token: 'killed-while-breaking' })));
    await store.install(await makeSigned());
    assert.equal(existsSync(breaker), false, 'removed by the recovery before the install');
    await writeFile(breaker, JSON.stringify(owner({ pid: process.pid, token: 'breaking-now' })));
    await store.uninstall('hello');
    assert.equal(existsSync(breaker), true, 'a live process is still breaking: its breaker stays');
  });

  it('breaks a lock file that it cannot read as a holder', async () => {
    const path = await lockPath();
    await writeFile(path, 'garbage');
    const lock = await StoreLock.acquire(path, { operation: 'x' });
    await lock.release();
  });

  it('never breaks the lock of a live process, nor one taken on another host', async () => {
    const path = await lockPath();
    await writeFile(path, JSON.stringify(owner({ pid: process.pid })));
    await rejectsWithCode(StoreLock.acquire(path, { operation: 'x' }), 'FO_STORE_LOCKED');
    await writeFile(path, JSON.stringify(owner({ pid: deadPid(), host: `not-${hostname()}` })));
    await rejectsWithCode(StoreLock.acquire(path, { operation: 'x' }), 'FO_STORE_LOCKED');
  });

  it('treats a holder from another boot, or whose process id now names a process started later, as dead', async (t: TestContext) => {
    if (!existsSync('/proc/self/stat') || !existsSync('/proc/sys/kernel/random/boot_id')) {
      t.skip('needs Linux /proc (boot id and process start times)');
      return;
    }
    const boot = (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
    const live = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    t.after(() => live.kill('SIGKILL'));
    const pid = live.pid!;
    assert.equal(isOwnerAlive(owner({ pid, boot })), true, 'a live process on this boot');
    assert.equal(isOwnerAlive(owner({ pid, boot: '00000000-0000-0000-0000-000000000000' })), false, 'another boot');
    assert.equal(isOwnerAlive(owner({ pid, boot, start: '1' })), false, 'a reused process id');
  });

  it('releases only its own lock, never one taken after it was broken', async () => {
    const path = await lockPath();
    const lock = await StoreLock.acquire(path, { operation: 'x' });
    await writeFile(path, JSON.stringify(owner({ token: 'newer' })));
    await lock.release();
    assert.equal((JSON.parse(await readFile(path, 'utf8')) as StoreLockOwner).token, 'newer');
  });
});

describe('PluginStore under concurrent use', () => {
  it('refuses a change from a second store while one is under way, and readers see the old state', async () => {
    const first = await openStore();
    let resume!: () => void;
    let paused!: () => void;
    const reachedStaged = new Promise<void>((resolve) => (paused = resolve));
    const gate = new Promise<void>((resolve) => (resume = resolve));
    const slow = await openStore({
      directory: first.directory,
      onStep: async (_operation, step) => {
        if (step === 'staged') {
          paused();
          await gate;
        }
      },
    });
    const installing = slow.install(await makeSigned());
    await reachedStaged;
    const error = await rejectsWithCode(first.install(await makeSigned({ name: 'other' })), 'FO_STORE_LOCKED');
    assert.equal((error.details['holder'] as StoreLockOwner).operation, 'install hello 1.0.0');
    assert.deepEqual(await first.list(), [], 'nothing is visible before the commit');
    resume();
    assert.equal((await installing).action, 'installed');
    assert.equal((await first.install(await makeSigned({ name: 'other' }))).action, 'installed');
  });

  it('runs concurrent changes through one store object one after another', async () => {
    const store = await openStore();
    const results = await Promise.all(['a', 'b', 'c'].map(async (name) => store.install(await makeSigned({ name }))));
    assert.deepEqual(results.map((result) => result.action), ['installed', 'installed', 'installed']);
    assert.deepEqual((await store.list()).map((plugin) => plugin.name), ['a', 'b', 'c']);
  });

  it('refuses another process while a change is under way, and takes over once that process is killed', async () => {
    const dir = await tempDir('forge-concurrent-');
    const trust = await writeTrustDir(dir);
    const store = await openStore({ directory: join(dir, 'plugins') });
    const file = join(dir, 'hello.forgepkg');
    await writeFile(file, await makeSigned());
    const child = new LiveChild({ directory: store.directory, trust, now: NOW, operation: 'install', target: file, pauseAt: 'install:staged' });
    await child.line('paused install:staged');
    const error = await rejectsWithCode(store.install(await makeSigned({ name: 'other' })), 'FO_STORE_LOCKED');
    assert.equal((error.details['holder'] as StoreLockOwner).pid, child.process.pid);
    assert.deepEqual(await store.list(), []);
    assert.equal((await child.kill()).signal, 'SIGKILL');
    assert.equal((await store.install(await makeSigned({ name: 'other' }))).action, 'installed');
    assert.deepEqual(await readdir(join(store.directory, '.store', 'staging')), [], 'the killed install was cleaned up');
    assert.deepEqual((await store.list()).map((plugin) => plugin.name), ['other']);
  });

  it('keeps the store consistent when several processes install at once', async () => {
    const dir = await tempDir('forge-race-');
    const trust = await writeTrustDir(dir);
    const directory = join(dir, 'plugins');
    await openStore({ directory });
    const names = ['p1', 'p2', 'p3', 'p4'];
    for (const name of names) await writeFile(join(dir, `${name}.forgepkg`), await makeSigned({ name }));
    const race = async (lockWaitMs: number, maxPlugins?: number): Promise<ChildOutcome[]> => {
      const children = names.map(
        (name) => new LiveChild({ directory, trust, now: NOW, operation: 'install', target: join(dir, `${name}.forgepkg`), lockWaitMs, ...(maxPlugins === undefined ? {} : { maxPlugins }) }),
      );
      return Promise.all(children.map(async (child) => (await child.ended).outcome!));
    };

    // Without waiting, each either installs or is told the store is locked.
    const impatient = await race(0);
    for (const outcome of impatient) assert.ok(outcome.ok || outcome.code === 'FO_STORE_LOCKED', JSON.stringify(outcome));
    const store = await openStore({ directory });
    const installed = impatient.filter((outcome) => outcome.ok).length;
    assert.equal((await store.list()).length, installed);
    for (const plugin of await store.list()) await store.uninstall(plugin.name);

    // Waiting for the lock, all of them install.
    const patient = await race(60_000);
    assert.deepEqual(patient, names.map(() => ({ ok: true, version: '1.0.0' })));
    assert.deepEqual((await store.list()).map((plugin) => plugin.name), names);
    for (const name of names) await store.verify(name);
    for (const name of names) await store.uninstall(name);

    // max_plugins holds across processes: exactly one of them gets in.
    const full = await race(60_000, 1);
    assert.equal(full.filter((outcome) => outcome.ok).length, 1, JSON.stringify(full));
    assert.deepEqual(full.filter((outcome) => !outcome.ok).map((outcome) => (outcome.ok ? '' : outcome.code)), ['FO_STORE_FULL', 'FO_STORE_FULL', 'FO_STORE_FULL']);
    assert.equal((await store.list()).length, 1);
    assert.equal(runChild({ directory, trust, now: NOW, operation: 'uninstall', target: 'p9' }).outcome?.ok, false);
  });
});
