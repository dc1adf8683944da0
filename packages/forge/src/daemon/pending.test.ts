import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ForgeError } from '@forgeone/common';
import { MAX_PENDING_UPGRADES, PendingUpgrades } from './pending.js';
import { DaemonState } from './state.js';

const HELD = { allowDowngrade: false, allowPublisherChange: false, start: false };

function refusal(version: string): ForgeError {
  return new ForgeError('FO_STORE_APPROVAL_REQUIRED', 'approve them to install', {
    details: { name: 'demo', installed: '1.0.0', version, publisher: 'ACME', escalations: ['syscalls: forge.kv_get'], diff: { widens: true, escalations: ['syscalls: forge.kv_get'] } },
  });
}

async function open(clock: () => number = Date.now): Promise<{ state: DaemonState; dir: string; pending: PendingUpgrades }> {
  const root = await mkdtemp(join(tmpdir(), 'forge-pending-'));
  const state = DaemonState.open(join(root, 'daemon.db'));
  const dir = join(root, 'pending');
  return { state, dir, pending: PendingUpgrades.open(state.db, dir, { clock }) };
}

describe('PendingUpgrades', () => {
  it(`keeps at most ${MAX_PENDING_UPGRADES}: the oldest and its package go first, so uploads cannot fill the disk`, async () => {
    let now = Date.UTC(2025, 0, 1);
    const { state, dir, pending } = await open(() => (now += 1000));
    const ids: string[] = [];
    for (let i = 0; i <= MAX_PENDING_UPGRADES; i += 1) ids.push(await pending.keep(randomBytes(64), refusal(`1.${i + 1}.0`), 'user:test', HELD));
    const kept = pending.list();
    assert.equal(kept.length, MAX_PENDING_UPGRADES);
    assert.deepEqual(
      kept.map((upgrade) => upgrade.id),
      ids.slice(1).reverse(),
      'newest first, the first one gone',
    );
    assert.deepEqual((await readdir(dir)).sort(), ids.slice(1).map((id) => `${id}.forgepkg`).sort());
    state.close();
  });

  it('keeps the same bytes once: a second upload updates who and when, and keeps the id', async () => {
    let now = Date.UTC(2025, 0, 1);
    const { state, pending } = await open(() => (now += 1000));
    const bytes = randomBytes(64);
    const id = await pending.keep(bytes, refusal('1.1.0'), 'token:first', HELD);
    await pending.keep(randomBytes(64), refusal('1.2.0'), 'token:other', HELD);
    assert.equal(await pending.keep(bytes, refusal('1.1.0'), 'token:second', HELD), id);
    assert.deepEqual(
      pending.list().map((upgrade) => [upgrade.id === id, upgrade.by]),
      [
        [true, 'token:second'],
        [false, 'token:other'],
      ],
    );
    assert.deepEqual((await pending.read(id)).bytes, bytes);
    state.close();
  });

  it('drops, on open, a row whose package is gone and a file no row names', async () => {
    const { state, dir, pending } = await open();
    const lost = await pending.keep(randomBytes(64), refusal('1.1.0'), 'user:test', HELD);
    const kept = await pending.keep(randomBytes(64), refusal('1.2.0'), 'user:test', HELD);
    await rm(join(dir, `${lost}.forgepkg`));
    await writeFile(join(dir, 'stray.forgepkg'), 'x');
    await writeFile(join(dir, `${kept}.forgepkg.1234.tmp`), 'half');
    const reopened = PendingUpgrades.open(state.db, dir);
    assert.deepEqual(
      reopened.list().map((upgrade) => upgrade.id),
      [kept],
    );
    assert.deepEqual(await readdir(dir), [`${kept}.forgepkg`]);
    state.close();
  });

  it('refuses a refusal without the plugin\'s identity rather than keep an entry it cannot describe', async () => {
    const { state, dir, pending } = await open();
    await assert.rejects(
      () => pending.keep(randomBytes(8), new ForgeError('FO_STORE_APPROVAL_REQUIRED', 'x', { details: { name: 'demo' } }), 'user:test', HELD),
      (error: unknown) => ForgeError.is(error, 'FO_INTERNAL_UNEXPECTED'),
    );
    assert.deepEqual(await readdir(dir), []);
    state.close();
  });
});
