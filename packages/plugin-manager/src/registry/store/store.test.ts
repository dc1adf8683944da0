import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { rejectsWithCode } from '@forgeone/common/testing';
import { createRevocationList } from '../../attestation/revocation.js';
import { TrustStore } from '../../attestation/trust-store.js';
import { readPackage } from '../../loader/index.js';
import { PluginStore } from './store.js';
import { rewrite } from '../../attestation/test-support/pki.js';
import { NOW, makeSigned, openStore, otherPublisher, root, tempDir, trustStore } from './test-support/fixtures.js';

async function entries(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

describe('PluginStore install', () => {
  it('installs a signed package: package, unpacked files, record, state and a private data directory', async () => {
    const store = await openStore();
    const bytes = await makeSigned();
    const result = await store.install(bytes);
    assert.equal(result.action, 'installed');
    const plugin = result.plugin;
    assert.equal(plugin.name, 'hello');
    assert.equal(plugin.version, '1.0.0');
    assert.equal(plugin.identity.publisher, 'Store Publisher');
    assert.equal(plugin.identity.attested, true);
    assert.equal(plugin.identity.digest, (await readPackage(bytes)).digest);
    assert.equal(plugin.installedAt, new Date(NOW).toISOString());
    assert.equal(plugin.previous, undefined);
    assert.deepEqual(await entries(store.directory), ['.store', 'hello']);
    assert.deepEqual(await entries(plugin.paths.root), ['data', 'state.json', 'versions']);
    assert.deepEqual(await entries(plugin.paths.dir), ['files', 'package.forgepkg', 'record.json']);
    assert.deepEqual(await readFile(plugin.paths.package), bytes);
    assert.deepEqual(await readFile(plugin.paths.module), (await readPackage(bytes)).read('plugin.wasm'));
    assert.equal(await readFile(join(plugin.paths.files, 'assets', 'readme.txt'), 'utf8'), 'hello');
    assert.equal((await stat(plugin.paths.data)).mode & 0o777, 0o700);
    assert.equal((await stat(plugin.paths.module)).mode & 0o222, 0, 'installed files are read-only');
    assert.deepEqual(await store.list(), [plugin]);
    await store.verify('hello');
  });

  it('never lets an unsigned or tampered package in when signatures are required, and writes nothing', async () => {
    const store = await openStore();
    await rejectsWithCode(store.install(await makeSigned({ signer: null })), 'FO_VERIFY_UNSIGNED');
    const tampered = await rewrite(await makeSigned(), (files) =>
      files.map((file) => (file.path === 'assets/readme.txt' ? { path: file.path, data: Buffer.from('evil') } : file)),
    );
    await rejectsWithCode(store.install(tampered), 'FO_VERIFY_DIGEST_MISMATCH');
    assert.deepEqual(await entries(store.directory), ['.store']);
    assert.deepEqual(await store.list(), []);
  });

  it('refuses a package whose signer the trust store does not trust', async () => {
    const store = await openStore({ verification: { verifySignatures: true, trustStore: TrustStore.create({}), now: NOW } });
    await rejectsWithCode(store.install(await makeSigned()), 'FO_SIGNER_UNTRUSTED');
  });

  it('installs an unsigned package as publisher "unsigned" when signatures are not required', async () => {
    const store = await openStore({ verification: { verifySignatures: false } });
    const { plugin } = await store.install(await makeSigned({ signer: null }));
    assert.equal(plugin.identity.publisher, 'unsigned');
    assert.equal(plugin.identity.attested, false);
  });

  it('reads a package from a path, refusing one above max_package_size before reading it', async () => {
    const dir = await tempDir();
    const file = join(dir, 'hello.forgepkg');
    await writeFile(file, await makeSigned());
    const store = await openStore();
    assert.equal((await store.install(file)).action, 'installed');
    const small = await openStore({ limits: { maxPackageSize: 64, maxUnpackedSize: 1 << 20, maxEntries: 10, maxFileSize: 1 << 20, maxCompressionRatio: 100, maxManifestSize: 1 << 16 } });
    await rejectsWithCode(small.install(file), 'FO_PACKAGE_TOO_LARGE');
  });

  it('treats the same version with the same content as unchanged, and other content under that version as a conflict', async () => {
    const store = await openStore({ now: () => NOW });
    await store.install(await makeSigned());
    const later = await PluginStore.open({ directory: store.directory, verification: { verifySignatures: true, trustStore, now: NOW }, now: () => NOW + 1000 });
    const again = await later.install(await makeSigned());
    assert.equal(again.action, 'unchanged');
    assert.equal(again.plugin.installedAt, new Date(NOW).toISOString(), 'nothing was rewritten');
    const error = await rejectsWithCode(later.install(await makeSigned({ variant: 1 })), 'FO_STORE_VERSION_EXISTS');
    assert.equal(error.details['slot'], 'current');
  });

  it('needs verification settings to install', async () => {
    const store = await PluginStore.open({ directory: join(await tempDir(), 'plugins') });
    await rejectsWithCode(store.install(await makeSigned()), 'FO_STORE_NO_VERIFIER');
    await rejectsWithCode(store.rollback('hello'), 'FO_STORE_NO_VERIFIER');
  });

  it('refuses hostile plugin names before they reach the file system', async () => {
    const store = await openStore();
    for (const name of ['../etc', 'a/b', '.store', '', 'A', '..', 'x'.repeat(65)]) {
      await rejectsWithCode(store.get(name), 'FO_STORE_INVALID_NAME');
      await rejectsWithCode(store.uninstall(name), 'FO_STORE_INVALID_NAME');
      await rejectsWithCode(store.rollback(name), 'FO_STORE_INVALID_NAME');
    }
  });

  it('refuses to install over a directory it did not create, and leaves it alone', async () => {
    const store = await openStore();
    await mkdir(join(store.directory, 'hello'));
    await writeFile(join(store.directory, 'hello', 'mine.txt'), 'keep');
    await rejectsWithCode(store.install(await makeSigned()), 'FO_STORE_CORRUPT');
    assert.equal(await readFile(join(store.directory, 'hello', 'mine.txt'), 'utf8'), 'keep');
    assert.deepEqual(await store.list(), []);
  });

  it('refuses a directory holding a store of another layout format', async () => {
    const store = await openStore();
    await writeFile(join(store.directory, '.store', 'format.json'), '{"format":2}\n');
    await rejectsWithCode(PluginStore.open({ directory: store.directory }), 'FO_STORE_CORRUPT');
  });
});

describe('PluginStore upgrade, downgrade and rollback', () => {
  it('upgrades keeping the previous version and the data directory, and drops the version before that', async () => {
    const store = await openStore();
    await store.install(await makeSigned({ version: '1.0.0' }));
    const { paths } = await store.get('hello');
    await writeFile(join(paths.data, 'kv.sqlite'), 'plugin data');
    const second = await store.install(await makeSigned({ version: '1.1.0' }));
    assert.equal(second.action, 'upgraded');
    assert.equal(second.from, '1.0.0');
    assert.equal(second.plugin.version, '1.1.0');
    assert.equal(second.plugin.previous?.version, '1.0.0');
    assert.equal(second.diff?.unchanged, true);
    const third = await store.install(await makeSigned({ version: '2.0.0' }));
    assert.equal(third.plugin.previous?.version, '1.1.0');
    assert.deepEqual(await entries(join(store.directory, 'hello', 'versions')), ['1.1.0', '2.0.0']);
    assert.equal(await readFile(join(paths.data, 'kv.sqlite'), 'utf8'), 'plugin data');
    await store.verify('hello');
  });

  it('refuses a downgrade unless asked for, then keeps the newer version as previous', async () => {
    const store = await openStore();
    await store.install(await makeSigned({ version: '2.0.0' }));
    const error = await rejectsWithCode(store.install(await makeSigned({ version: '1.0.0' })), 'FO_STORE_DOWNGRADE');
    assert.deepEqual([error.details['installed'], error.details['version']], ['2.0.0', '1.0.0']);
    assert.equal((await store.get('hello')).version, '2.0.0');
    const down = await store.install(await makeSigned({ version: '1.0.0' }), { allowDowngrade: true });
    assert.equal(down.action, 'downgraded');
    assert.equal(down.plugin.version, '1.0.0');
    assert.equal(down.plugin.previous?.version, '2.0.0');
  });

  it('installs the kept previous version again by reusing its directory, but refuses other content under its version', async () => {
    const store = await openStore();
    await store.install(await makeSigned({ version: '1.0.0' }));
    await store.install(await makeSigned({ version: '2.0.0' }));
    await rejectsWithCode(store.install(await makeSigned({ version: '1.0.0', variant: 3 }), { allowDowngrade: true }), 'FO_STORE_VERSION_EXISTS');
    const back = await store.install(await makeSigned({ version: '1.0.0' }), { allowDowngrade: true });
    assert.equal(back.plugin.version, '1.0.0');
    assert.equal(back.plugin.previous?.version, '2.0.0');
    await store.verify('hello');
  });

  it('rolls back to the previous version and forward again, leaving data alone', async () => {
    const store = await openStore();
    await store.install(await makeSigned({ version: '1.0.0' }));
    await store.install(await makeSigned({ version: '1.1.0' }));
    const { paths } = await store.get('hello');
    await writeFile(join(paths.data, 'state'), 'x');
    const back = await store.rollback('hello');
    assert.equal(back.version, '1.0.0');
    assert.equal(back.previous?.version, '1.1.0');
    assert.equal(back.identity.version, '1.0.0');
    const forward = await store.rollback('hello');
    assert.equal(forward.version, '1.1.0');
    assert.equal(await readFile(join(paths.data, 'state'), 'utf8'), 'x');
  });

  it('has nothing to roll back to after a first install, and no plugin to roll back when none is installed', async () => {
    const store = await openStore();
    await rejectsWithCode(store.rollback('hello'), 'FO_STORE_NOT_INSTALLED');
    await store.install(await makeSigned());
    await rejectsWithCode(store.rollback('hello'), 'FO_STORE_NO_PREVIOUS');
  });

  it('refuses to roll back to a version whose files were altered or whose package is now revoked', async () => {
    const store = await openStore();
    await store.install(await makeSigned({ version: '1.0.0' }));
    await store.install(await makeSigned({ version: '1.1.0' }));
    const previous = (await store.get('hello')).previous;
    assert.ok(previous !== undefined);

    const revocations = createRevocationList({ serials: [], key_ids: [], digests: [previous.identity.digest] }, root.key, NOW);
    const revoking = await PluginStore.open({
      directory: store.directory,
      verification: { verifySignatures: true, trustStore: TrustStore.create({ roots: [root.certificate], revocations: { text: revocations, source: 'test' } }), now: NOW },
    });
    await rejectsWithCode(revoking.rollback('hello'), 'FO_REVOKED_PACKAGE');
    assert.equal((await store.get('hello')).version, '1.1.0');

    const readme = join(previous.paths.files, 'assets', 'readme.txt');
    await chmod(readme, 0o644);
    await writeFile(readme, 'evil');
    const error = await rejectsWithCode(store.rollback('hello'), 'FO_STORE_CORRUPT');
    assert.match(error.message, /readme\.txt/);
    assert.equal((await store.get('hello')).version, '1.1.0');
  });

  it('refuses an upgrade signed by another publisher unless the change is allowed', async () => {
    const store = await openStore();
    await store.install(await makeSigned({ version: '1.0.0' }));
    const error = await rejectsWithCode(store.install(await makeSigned({ version: '1.1.0', signer: otherPublisher })), 'FO_STORE_PUBLISHER_CHANGED');
    assert.deepEqual([error.details['installedPublisher'], error.details['publisher']], ['Store Publisher', 'Other Publisher']);
    const allowed = await store.install(await makeSigned({ version: '1.1.0', signer: otherPublisher }), { allowPublisherChange: true });
    assert.equal(allowed.plugin.identity.publisher, 'Other Publisher');
  });
});

describe('PluginStore permission re-approval', () => {
  it('refuses an upgrade that asks for more permissions, with the diff, until approved', async () => {
    const store = await openStore();
    await store.install(await makeSigned({ version: '1.0.0', permissions: 'filesystem = ["read"]\nsyscalls = ["forge.kv_get"]' }));
    const wider = await makeSigned({
      version: '1.1.0',
      permissions: 'filesystem = ["read", "write"]\nnetwork = ["connect"]\nallowed_hosts = ["api.example.com"]\nsyscalls = ["forge.kv_get", "forge.http_request"]',
    });
    const error = await rejectsWithCode(store.install(wider), 'FO_STORE_APPROVAL_REQUIRED');
    assert.equal(error.kind, 'denied');
    assert.deepEqual(error.details['escalations'], ['filesystem: write', 'network: connect', 'allowed_hosts: api.example.com', 'syscalls: forge.http_request']);
    assert.deepEqual([error.details['name'], error.details['installed'], error.details['version'], error.details['publisher']], ['hello', '1.0.0', '1.1.0', 'Store Publisher']);
    assert.match(String(error.details['digest']), /^sha256:[0-9a-f]{64}$/);
    const diff = error.details['diff'] as { widens: boolean; allowed_hosts: { added: string[] } };
    assert.equal(diff.widens, true);
    assert.deepEqual(diff.allowed_hosts.added, ['api.example.com']);
    assert.equal((await store.get('hello')).version, '1.0.0');
    assert.deepEqual(await entries(join(store.directory, 'hello', 'versions')), ['1.0.0'], 'nothing was staged into place');

    const approved = await store.install(wider, { approvePermissions: true });
    assert.equal(approved.action, 'upgraded');
    assert.deepEqual(approved.plugin.current.approvedEscalations, ['filesystem: write', 'network: connect', 'allowed_hosts: api.example.com', 'syscalls: forge.http_request']);
  });

  it('needs no approval for the same or fewer permissions, or for calls an installed wildcard covers', async () => {
    const store = await openStore();
    await store.install(await makeSigned({ version: '1.0.0', permissions: 'filesystem = ["read", "write"]\nsyscalls = ["forge.*"]\nnetwork = ["connect"]\nallowed_hosts = ["*.example.com"]' }));
    const narrower = await store.install(await makeSigned({ version: '1.1.0', permissions: 'filesystem = ["read"]\nsyscalls = ["forge.kv_get"]\nnetwork = ["connect"]\nallowed_hosts = ["api.example.com"]' }));
    assert.equal(narrower.action, 'upgraded');
    assert.equal(narrower.diff?.widens, false);
    assert.deepEqual(narrower.diff?.filesystem.removed, ['write']);
    assert.equal(narrower.plugin.current.approvedEscalations, undefined);
  });

  it('asks again for a volume going from ro to rw and for a new volume', async () => {
    const store = await openStore();
    const base = 'filesystem = ["read", "write"]\nvolumes = [{ name = "data", path = "/data", mode = "ro" }]';
    await store.install(await makeSigned({ version: '1.0.0', permissions: base }));
    const rw = await rejectsWithCode(
      store.install(await makeSigned({ version: '1.1.0', permissions: 'filesystem = ["read", "write"]\nvolumes = [{ name = "data", path = "/data", mode = "rw" }]' })),
      'FO_STORE_APPROVAL_REQUIRED',
    );
    assert.deepEqual(rw.details['escalations'], ['volume data (/data): ro -> rw']);
    const added = await rejectsWithCode(
      store.install(await makeSigned({ version: '1.1.0', permissions: `${base.split('\n')[0]}\nvolumes = [{ name = "data", path = "/data", mode = "ro" }, { name = "cache", path = "/cache", mode = "ro" }]` })),
      'FO_STORE_APPROVAL_REQUIRED',
    );
    assert.deepEqual(added.details['escalations'], ['volume cache (/cache, ro)']);
    const moved = await store.install(await makeSigned({ version: '1.1.0', permissions: 'filesystem = ["read", "write"]\nvolumes = [{ name = "data", path = "/srv", mode = "ro" }]' }));
    assert.equal(moved.diff?.widens, false);
    assert.equal(moved.diff?.volumes.changed.length, 1);
  });
});

describe('PluginStore limits, uninstall and verification', () => {
  it('enforces max_plugins on new plugins but not on upgrades', async () => {
    const store = await openStore({ maxPlugins: 2 });
    await store.install(await makeSigned({ name: 'one' }));
    await store.install(await makeSigned({ name: 'two' }));
    const error = await rejectsWithCode(store.install(await makeSigned({ name: 'three' })), 'FO_STORE_FULL');
    assert.equal(error.kind, 'limit');
    assert.deepEqual([error.details['limit'], error.details['installed']], [2, 2]);
    assert.equal((await store.install(await makeSigned({ name: 'two', version: '1.0.1' }))).action, 'upgraded');
    await store.uninstall('one');
    assert.equal((await store.install(await makeSigned({ name: 'three' }))).action, 'installed');
    assert.deepEqual((await store.list()).map((plugin) => plugin.name), ['three', 'two']);
  });

  it('uninstalls every version and the data directory, and says when there is nothing to uninstall', async () => {
    const store = await openStore();
    await store.install(await makeSigned({ version: '1.0.0' }));
    await store.install(await makeSigned({ version: '1.1.0' }));
    await writeFile(join((await store.get('hello')).paths.data, 'kv'), 'x');
    assert.deepEqual(await store.uninstall('hello'), { name: 'hello', version: '1.1.0' });
    assert.deepEqual(await entries(store.directory), ['.store']);
    assert.deepEqual(await entries(join(store.directory, '.store', 'trash')), []);
    await rejectsWithCode(store.get('hello'), 'FO_STORE_NOT_INSTALLED');
    assert.equal(await store.find('hello'), undefined);
    await rejectsWithCode(store.uninstall('hello'), 'FO_STORE_NOT_INSTALLED');
  });

  it('uninstalls a plugin whose state.json is unreadable', async () => {
    const store = await openStore();
    await store.install(await makeSigned());
    await writeFile(join(store.directory, 'hello', 'state.json'), '{ broken');
    await rejectsWithCode(store.get('hello'), 'FO_STORE_CORRUPT');
    assert.deepEqual(await store.uninstall('hello'), { name: 'hello', version: undefined });
    assert.deepEqual(await store.list(), []);
  });

  it('finds altered, missing and extra installed files', async () => {
    const store = await openStore();
    const { plugin } = await store.install(await makeSigned());
    const module = plugin.paths.module;
    await chmod(module, 0o644);
    await writeFile(module, Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 9]));
    await writeFile(join(plugin.paths.files, 'assets', 'extra.txt'), 'not from the package');
    await rm(join(plugin.paths.files, 'assets', 'readme.txt'));
    const error = await rejectsWithCode(store.verify('hello'), 'FO_STORE_CORRUPT');
    const problems = (error.details['problems'] as { path: string; problem: string }[]).map((problem) => [problem.path, problem.problem.split(',')[0]]);
    assert.deepEqual(problems, [
      [join(plugin.paths.files, 'assets', 'readme.txt'), 'expected a file of 5 bytes'],
      [module, `expected sha256:${plugin.current.files.find((file) => file.path === 'plugin.wasm')?.sha256 ?? ''} (8 bytes)`],
      [join(plugin.paths.files, 'assets', 'extra.txt'), 'expected no such file (it is not part of the package)'],
    ]);
  });

  it('refuses to read a state.json that names another plugin or a version without a record', async () => {
    const store = await openStore();
    await store.install(await makeSigned());
    const statePath = join(store.directory, 'hello', 'state.json');
    const state = JSON.parse(await readFile(statePath, 'utf8')) as Record<string, unknown>;
    await writeFile(statePath, JSON.stringify({ ...state, name: 'other' }));
    await rejectsWithCode(store.get('hello'), 'FO_STORE_CORRUPT');
    await writeFile(statePath, JSON.stringify({ ...state, current: '9.9.9' }));
    const error = await rejectsWithCode(store.get('hello'), 'FO_STORE_CORRUPT');
    assert.match(error.message, /9\.9\.9/);
  });
});

describe('PluginStore recovery', () => {
  it('removes staging and trash leftovers, unreferenced versions and temporary state files when opened', async () => {
    const store = await openStore();
    await store.install(await makeSigned({ version: '1.0.0' }));
    const meta = join(store.directory, '.store');
    await mkdir(join(meta, 'staging', 'txn-1', 'hello', 'versions'), { recursive: true });
    await mkdir(join(meta, 'trash', 'txn-2', 'versions'), { recursive: true });
    await mkdir(join(store.directory, 'hello', 'versions', '3.0.0', 'files'), { recursive: true });
    await writeFile(join(store.directory, 'hello', '.state.json.tmp-1-abc'), '{');
    await writeFile(join(meta, 'lock.candidate-999999999-abc'), '{}');
    const reopened = await PluginStore.open({ directory: store.directory });
    assert.deepEqual([...reopened.recovered].sort(), [
      join(meta, 'lock.candidate-999999999-abc'),
      join(meta, 'staging', 'txn-1'),
      join(meta, 'trash', 'txn-2'),
      join(store.directory, 'hello', '.state.json.tmp-1-abc'),
      join(store.directory, 'hello', 'versions', '3.0.0'),
    ].sort());
    assert.deepEqual(await entries(join(store.directory, 'hello')), ['data', 'state.json', 'versions']);
    assert.deepEqual(await entries(join(store.directory, 'hello', 'versions')), ['1.0.0']);
    assert.deepEqual(await entries(join(meta, 'staging')), []);
    await reopened.verify('hello');
  });
});
