/**
 * Credentials: config.json reading and writing, challenge parsing, and Basic auth
 * against docker-registry with htpasswd.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { codeOf, rejectsWithCode } from '@forgeone/common/testing';
import { makeSigned } from '../store/test-support/fixtures.js';
import { loadCredentials, parseChallenge, saveCredentials } from './auth.js';
import { OciClient } from './client.js';
import { pullPackage } from './pull.js';
import { pushPackage } from './push.js';
import { parseReference } from './reference.js';
import { requireRegistry, startRegistryIfPossible, type TestRegistry } from './test-support/registry.js';
import { startTokenServer, type TokenServer } from './test-support/token-server.js';

const temp = (): Promise<string> => mkdtemp(join(tmpdir(), 'forge-oci-auth-'));

describe('registry credentials', () => {
  test('parses Bearer and Basic challenges, quoted values with commas included', () => {
    assert.deepEqual(parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"'), {
      scheme: 'bearer',
      params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push' },
    });
    assert.deepEqual(parseChallenge('Basic realm="forge-test"'), { scheme: 'basic', params: { realm: 'forge-test' } });
  });

  test('forge login writes config.json 0600, keeps other keys, and reads back either entry form', async () => {
    const dir = await temp();
    const path = join(dir, 'docker', 'config.json');
    await saveCredentials(path, 'reg.example:5000', { username: 'alice', password: 'p:ss' });
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.deepEqual(await loadCredentials(path, 'reg.example:5000'), { username: 'alice', password: 'p:ss' });
    const config = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    await writeFile(path, JSON.stringify({ ...config, credsStore: 'desktop', auths: { ...(config['auths'] as object), 'other.example': { username: 'bob', password: 'x' } } }));
    await saveCredentials(path, 'third.example', { username: 'carol', password: 'y' });
    const kept = JSON.parse(await readFile(path, 'utf8')) as { credsStore: string; auths: Record<string, unknown> };
    assert.equal(kept.credsStore, 'desktop');
    assert.deepEqual(Object.keys(kept.auths).sort(), ['other.example', 'reg.example:5000', 'third.example']);
    assert.deepEqual(await loadCredentials(path, 'other.example'), { username: 'bob', password: 'x' });
    assert.equal(await loadCredentials(path, 'absent.example'), undefined);
    assert.equal(await loadCredentials(join(dir, 'none.json'), 'reg.example:5000'), undefined);
  });

  test('a malformed entry is an error, never a silent anonymous pull', async () => {
    const path = join(await temp(), 'config.json');
    await writeFile(path, JSON.stringify({ auths: { 'reg.example': { auth: Buffer.from('no-colon').toString('base64') } } }));
    assert.equal(await codeOf(loadCredentials(path, 'reg.example')), 'FO_CONFIG_INVALID');
    await writeFile(path, '{not json');
    assert.equal(await codeOf(loadCredentials(path, 'reg.example')), 'FO_CONFIG_SYNTAX');
  });
});

describe('Basic auth against docker-registry with htpasswd', () => {
  let registry: TestRegistry | undefined;
  before(async () => {
    registry = await startRegistryIfPossible({ kind: 'htpasswd', username: 'forge', password: 'sesame' });
  });
  after(() => registry?.stop());

  test('anonymous and wrong passwords are FO_OCI_UNAUTHORIZED; the right one from config.json pushes and pulls', async (t) => {
    if (!requireRegistry(t, true) || registry === undefined) return;
    const host = registry.host;
    const ref = parseReference(`${host}/forge/locked:1.0.0`);
    const bytes = await makeSigned({ name: 'locked' });
    await rejectsWithCode(pushPackage(new OciClient({ registry: host }), ref, bytes), 'FO_OCI_UNAUTHORIZED', 'anonymous');
    await rejectsWithCode(pushPackage(new OciClient({ registry: host, credentials: { username: 'forge', password: 'wrong' } }), ref, bytes), 'FO_OCI_UNAUTHORIZED', 'wrong password');
    const path = join(await temp(), 'config.json');
    await saveCredentials(path, host, { username: 'forge', password: 'sesame' });
    const credentials = await loadCredentials(path, host);
    assert.ok(credentials !== undefined);
    const client = new OciClient({ registry: host, credentials });
    await pushPackage(client, ref, bytes);
    assert.ok(bytes.equals((await pullPackage(client, ref)).bytes));
    await rejectsWithCode(pullPackage(new OciClient({ registry: host }), ref), 'FO_OCI_UNAUTHORIZED', 'anonymous pull');
  });
});

describe('Bearer auth against docker-registry with auth: token (a JWT from a Node token server)', () => {
  let registry: TestRegistry | undefined;
  let tokens: TokenServer;
  before(async () => {
    tokens = await startTokenServer('forge', 'sesame');
    registry = await startRegistryIfPossible({ kind: 'token', realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootCertPem: tokens.rootCertPem });
  });
  after(async () => {
    await registry?.stop();
    await tokens.close();
  });

  test('tokens fetched with the credentials push and pull; without them, or with wrong ones, FO_OCI_UNAUTHORIZED', async (t) => {
    if (!requireRegistry(t) || registry === undefined) return;
    const host = registry.host;
    const ref = parseReference(`${host}/forge/bearer:1.0.0`);
    const bytes = await makeSigned({ name: 'bearer' });
    await rejectsWithCode(pushPackage(new OciClient({ registry: host }), ref, bytes), 'FO_OCI_UNAUTHORIZED', 'anonymous');
    await rejectsWithCode(pushPackage(new OciClient({ registry: host, credentials: { username: 'forge', password: 'wrong' } }), ref, bytes), 'FO_OCI_UNAUTHORIZED', 'wrong password');
    assert.equal(tokens.minted(), 0);
    const client = new OciClient({ registry: host, credentials: { username: 'forge', password: 'sesame' } });
    await pushPackage(client, ref, bytes);
    // One token per scope, reused for every request of it: pull,push for uploads and manifests,
    // pull for reading the referrers tag.
    assert.equal(tokens.minted(), 2);
    assert.ok(bytes.equals((await pullPackage(client, ref)).bytes));
    assert.equal(tokens.minted(), 2, 'the pull reuses the cached pull token');
  });
});
