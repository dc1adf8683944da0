/**
 * forge pull --to DIR's image layout: what it holds, that a second pull keeps the first,
 * and that a real OCI tool (skopeo) reads it back into a registry unchanged.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { requireTool } from '@forgeone/common/testing';
import { makeSigned } from '../store/test-support/fixtures.js';
import { OciClient } from './client.js';
import { REF_NAME_ANNOTATION, writeLayout } from './layout.js';
import { PLUGIN_ARTIFACT_TYPE, SIGSTORE_BUNDLE_MEDIA_TYPE, type Descriptor } from './manifest.js';
import { pullArtifact, pullPackage } from './pull.js';
import { pushPackage } from './push.js';
import { parseReference } from './reference.js';
import { requireRegistry, startRegistry, type TestRegistry } from './test-support/registry.js';

describe('OCI image layout mirror', () => {
  let registry: TestRegistry | undefined;
  before(async () => {
    registry = await startRegistry().catch((error: unknown) => {
      if (process.env['CI'] === 'true') throw error;
      return undefined;
    });
  });
  after(() => registry?.stop());

  test('holds every blob under its digest, the plugin under its tag and its signature beside it; a second plugin is added', async (t) => {
    if (!requireRegistry(t) || registry === undefined) return;
    const client = new OciClient({ registry: registry.host });
    const dir = join(await mkdtemp(join(tmpdir(), 'forge-oci-layout-')), 'mirror');
    for (const name of ['one', 'two']) await pushPackage(client, parseReference(`${registry.host}/forge/${name}:1.0.0`), await makeSigned({ name }));
    const one = await pullArtifact(client, parseReference(`${registry.host}/forge/one:1.0.0`));
    await writeLayout(dir, one, 'one-1.0.0');
    await writeLayout(dir, await pullArtifact(client, parseReference(`${registry.host}/forge/two:1.0.0`)), 'two-1.0.0');
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

  test('skopeo copies the plugin from the layout into a registry with its manifest unchanged', async (t) => {
    if (!requireRegistry(t) || registry === undefined || !requireTool(t, 'skopeo', ['--version'])) return;
    const client = new OciClient({ registry: registry.host });
    const bytes = await makeSigned({ name: 'mirrored' });
    await pushPackage(client, parseReference(`${registry.host}/forge/mirrored:1.0.0`), bytes);
    const artifact = await pullArtifact(client, parseReference(`${registry.host}/forge/mirrored:1.0.0`));
    const dir = join(await mkdtemp(join(tmpdir(), 'forge-oci-layout-')), 'mirror');
    await writeLayout(dir, artifact, '1.0.0');
    const copy = spawnSync('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${dir}:1.0.0`, `docker://${registry.host}/forge/copied:1.0.0`], { encoding: 'utf8' });
    assert.equal(copy.status, 0, copy.stderr);
    // skopeo copies the plugin, not its referrers: the copy pulls unsigned, with the same manifest digest.
    const pulled = await pullPackage(client, parseReference(`${registry.host}/forge/copied:1.0.0`), { requireSignatures: false });
    assert.equal(pulled.digest, artifact.manifest.digest);
    assert.deepEqual(pulled.signatures, []);
  });
});
