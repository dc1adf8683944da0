/**
 * forge pull --to DIR's image layout: what it holds, that a second pull keeps the first,
 * and that a real OCI tool (skopeo) reads it back into a registry unchanged.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hasCode, rejectsWithCode, requireTool } from '@forgeone/common/testing';
import { makeSigned, openStore } from '../store/test-support/fixtures.js';
import { OciClient } from './client.js';
import { REF_NAME_ANNOTATION, writeLayout } from './layout.js';
import { PLUGIN_ARTIFACT_TYPE, SIGSTORE_BUNDLE_MEDIA_TYPE, type Descriptor } from './manifest.js';
import { layoutSource, parseLayoutArgument } from './layout-source.js';
import { pullArtifact, pullPackage, readArtifact, reassemble } from './pull.js';
import { pushPackage } from './push.js';
import { parseReference } from './reference.js';
import { requireRegistry, startRegistry, startRegistryIfPossible, type TestRegistry } from './test-support/registry.js';

describe('OCI image layout mirror', () => {
  let registry: TestRegistry | undefined;
  before(async () => {
    registry = await startRegistryIfPossible();
  });
  after(() => registry?.stop());

  test('holds every blob under its digest, the plugin under its tag and its signature beside it; a second plugin is added', async (t) => {
    if (!requireRegistry(t) || registry === undefined) return;
    const client = new OciClient({ registry: registry.host });
    const dir = join(await mkdtemp(join(tmpdir(), 'forge-oci-layout-')), 'mirror');
    for (const name of ['one', 'two']) await pushPackage(client, parseReference(`${registry.host}/forge/${name}:1.0.0`), await makeSigned({ name }));
    const one = await pullArtifact(client, parseReference(`${registry.host}/forge/one:1.0.0`));
    await writeLayout(dir, [{ artifact: one, refName: 'one-1.0.0' }]);
    await writeLayout(dir, [{ artifact: await pullArtifact(client, parseReference(`${registry.host}/forge/two:1.0.0`)), refName: 'two-1.0.0' }]);
    assert.deepEqual(JSON.parse(await readFile(join(dir, 'oci-layout'), 'utf8')), { imageLayoutVersion: '1.0.0' });
    for (const name of await readdir(join(dir, 'blobs', 'sha256'))) {
      assert.equal(createHash('sha256').update(await readFile(join(dir, 'blobs', 'sha256', name))).digest('hex'), name, `blob ${name}`);
    }
    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
    assert.deepEqual(
      index.manifests.map((entry) => [entry.artifactType, entry.annotations?.[REF_NAME_ANNOTATION] ?? null]),
      [
        [PLUGIN_ARTIFACT_TYPE, 'one-1.0.0'],
        [SIGSTORE_BUNDLE_MEDIA_TYPE, null],
        [PLUGIN_ARTIFACT_TYPE, 'two-1.0.0'],
        [SIGSTORE_BUNDLE_MEDIA_TYPE, null],
      ],
    );
    assert.equal(index.manifests[0]?.digest, one.manifest.digest);
  });

  test('installs offline from the layout, byte-identical to the pushed package; a tampered, missing or linked blob is refused', async (t) => {
    if (!requireRegistry(t) || registry === undefined) return;
    const client = new OciClient({ registry: registry.host });
    const dir = join(await mkdtemp(join(tmpdir(), 'forge-oci-layout-')), 'mirror');
    const packages = new Map<string, Buffer>();
    for (const name of ['alpha', 'beta']) {
      packages.set(name, await makeSigned({ name }));
      await pushPackage(client, parseReference(`${registry.host}/forge/${name}:1.0.0`), packages.get(name) ?? Buffer.alloc(0));
      await writeLayout(dir, [{ artifact: await pullArtifact(client, parseReference(`${registry.host}/forge/${name}:1.0.0`)), refName: name }]);
    }
    await registry.stop().then(() => undefined);
    registry = await startRegistry();
    // The registry the layout came from is gone: what follows reads the disk only.
    const alpha = await readArtifact(layoutSource(dir), `oci:${dir}:alpha`, 'alpha', undefined);
    assert.deepEqual(alpha.signatures.map((signature) => signature.file).length, 1, 'only alpha\'s signature, not beta\'s');
    assert.ok(reassemble(alpha).equals(packages.get('alpha') ?? Buffer.alloc(0)));
    const store = await openStore();
    assert.equal((await store.install(reassemble(alpha))).plugin.name, 'alpha');

    await rejectsWithCode(readArtifact(layoutSource(dir), 'layout', 'gamma', undefined), 'FO_OCI_NOT_FOUND');
    const blob = join(dir, 'blobs', 'sha256', alpha.layer.descriptor.digest.slice('sha256:'.length));
    const original = await readFile(blob);
    await writeFile(blob, Buffer.concat([original.subarray(0, -1), Buffer.from([original.at(-1) === 0 ? 1 : 0])]));
    await rejectsWithCode(readArtifact(layoutSource(dir), 'layout', 'alpha', undefined), 'FO_OCI_DIGEST_MISMATCH');
    await rm(blob);
    await writeFile(`${blob}.elsewhere`, original);
    await symlink(`${blob}.elsewhere`, blob);
    await rejectsWithCode(readArtifact(layoutSource(dir), 'layout', 'alpha', undefined), 'FO_OCI_PROTOCOL');
    assert.throws(() => parseLayoutArgument('oci::tag'), hasCode('FO_OCI_BAD_REFERENCE'));
    assert.deepEqual(parseLayoutArgument('oci:/srv/mirror:alpha'), { dir: '/srv/mirror', tag: 'alpha' });
    assert.deepEqual(parseLayoutArgument('oci:mirror'), { dir: 'mirror', tag: 'latest' });
  });

  test('skopeo copies the plugin from the layout into a registry with its manifest unchanged', async (t) => {
    if (!requireRegistry(t) || registry === undefined || !requireTool(t, 'skopeo', ['--version'])) return;
    const client = new OciClient({ registry: registry.host });
    const bytes = await makeSigned({ name: 'mirrored' });
    await pushPackage(client, parseReference(`${registry.host}/forge/mirrored:1.0.0`), bytes);
    const artifact = await pullArtifact(client, parseReference(`${registry.host}/forge/mirrored:1.0.0`));
    const dir = join(await mkdtemp(join(tmpdir(), 'forge-oci-layout-')), 'mirror');
    await writeLayout(dir, [{ artifact, refName: '1.0.0' }]);
    const copy = spawnSync('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${dir}:1.0.0`, `docker://${registry.host}/forge/copied:1.0.0`], { encoding: 'utf8' });
    assert.equal(copy.status, 0, copy.stderr);
    // skopeo copies the plugin, not its referrers: the copy pulls unsigned, with the same manifest digest.
    const pulled = await pullPackage(client, parseReference(`${registry.host}/forge/copied:1.0.0`), { requireSignatures: false });
    assert.equal(pulled.digest, artifact.manifest.digest);
    assert.deepEqual(pulled.signatures, []);
  });
});
