/**
 * A hostile or broken registry (a Node stand-in): each failure has its own code, no
 * read goes past its cap, and nothing reaches the store.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { rejectsWithCode } from '@forgeone/common/testing';
import type { PluginStore } from '../store/store.js';
import { makeSigned, openStore } from '../store/test-support/fixtures.js';
import { OciClient } from './client.js';
import { installFromRegistry } from './install.js';
import { isSignedContent, readPackage, writeArchive } from '../../loader/index.js';
import { MANIFEST_MEDIA_TYPE, digestOf, encode, parseManifest } from './manifest.js';
import { pushPackage } from './push.js';
import { parseReference } from './reference.js';
import { freePort } from './test-support/registry.js';
import { serveArtifact, startStandIn, type ServedArtifact, type StandIn } from './test-support/stand-in.js';

const RETRIES = 2;

describe('pulling from a hostile registry', () => {
  let standIn: StandIn;
  let served: ServedArtifact;
  let store: PluginStore;
  let signed: Buffer;
  before(async () => {
    signed = await makeSigned({ name: 'victim' });
  });
  beforeEach(async () => {
    standIn = await startStandIn();
    served = await serveArtifact(standIn, 'forge/victim', '1.0.0', signed);
    store = await openStore();
  });
  afterEach(() => standIn.close());

  const client = (): OciClient => new OciClient({ registry: standIn.host, retries: RETRIES, backoffMs: 1 });
  const install = (text = 'forge/victim:1.0.0') => installFromRegistry(client(), parseReference(`${standIn.host}/${text}`), store);
  const nothingInstalled = async (): Promise<void> => assert.deepEqual(await store.list(), []);
  const blobPath = (digest: string): string => `/v2/forge/victim/blobs/${digest}`;

  test('the honest stand-in installs (the cases below differ from it by one fault)', async () => {
    const done = await install();
    assert.equal(done.installed.plugin.name, 'victim');
  });

  test('a registry with the referrers API is asked there, and the fallback tag is not read', async () => {
    const tag = `forge/victim:sha256-${served.manifestDigest.slice('sha256:'.length)}`;
    const index = standIn.manifests.get(tag);
    assert.ok(index !== undefined);
    standIn.manifests.delete(tag);
    standIn.intercept = (request, response) => {
      if (request.url !== `/v2/forge/victim/referrers/${served.manifestDigest}?artifactType=${encodeURIComponent('application/vnd.dev.sigstore.bundle.v0.3+json')}`) return false;
      response.writeHead(200, { 'content-type': 'application/vnd.oci.image.index.v1+json' }).end(index.bytes);
      return true;
    };
    assert.equal((await install()).installed.plugin.name, 'victim');
    assert.equal(standIn.requests.filter((line) => line.includes('/manifests/sha256-')).length, 0);
  });

  test('a tampered layer is FO_OCI_DIGEST_MISMATCH', async () => {
    const layer = Buffer.from(standIn.blobs.get(served.layer.digest) ?? Buffer.alloc(0));
    layer.writeUInt8((layer.readUInt8(layer.length - 5) ^ 0xff) & 0xff, layer.length - 5);
    standIn.blobs.set(served.layer.digest, layer);
    await rejectsWithCode(install(), 'FO_OCI_DIGEST_MISMATCH');
    await nothingInstalled();
  });

  test('a manifest that does not hash to the pinned digest is FO_OCI_DIGEST_MISMATCH', async () => {
    const real = standIn.manifests.get(`forge/victim:${served.manifestDigest}`);
    assert.ok(real !== undefined);
    const forged = encode({ ...parseManifest(real.bytes, 'm'), annotations: { forged: 'yes' } });
    standIn.manifests.set(`forge/victim:${served.manifestDigest}`, { bytes: forged, type: MANIFEST_MEDIA_TYPE });
    await rejectsWithCode(install(`forge/victim@${served.manifestDigest}`), 'FO_OCI_DIGEST_MISMATCH');
    await nothingInstalled();
  });

  test('an endless manifest is cut off at max_manifest_size (FO_OCI_TOO_LARGE)', async () => {
    let sent = 0;
    standIn.intercept = (request, response) => {
      if (!(request.url ?? '').includes('/manifests/1.0.0')) return false;
      response.writeHead(200, { 'content-type': MANIFEST_MEDIA_TYPE });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      // Writes until the client goes away; a client without a cap would never stop.
      const pump = (): void => {
        while (!response.destroyed && sent < 1024 * 1024 * 1024) {
          sent += chunk.length;
          if (!response.write(chunk)) return void response.once('drain', pump);
        }
      };
      response.on('close', () => undefined);
      pump();
      return true;
    };
    await rejectsWithCode(install(), 'FO_OCI_TOO_LARGE');
    assert.ok(sent < 64 * 1024 * 1024, `the stand-in wrote ${sent} bytes before the client hung up`);
    await nothingInstalled();
  });

  test('a blob larger than its descriptor is cut off at the descriptor size (FO_OCI_TOO_LARGE)', async () => {
    const layer = standIn.blobs.get(served.layer.digest) ?? Buffer.alloc(0);
    standIn.intercept = (request, response) => {
      if (request.url !== blobPath(served.layer.digest)) return false;
      // No Content-Length: the client must count.
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      response.end(Buffer.concat([layer, Buffer.alloc(1024 * 1024)]));
      return true;
    };
    await rejectsWithCode(install(), 'FO_OCI_TOO_LARGE');
    await nothingInstalled();
  });

  test('a descriptor announcing more than max_package_size is refused before the blob is asked for', async () => {
    const real = standIn.manifests.get('forge/victim:1.0.0');
    assert.ok(real !== undefined);
    const parsed = parseManifest(real.bytes, 'm');
    const huge = encode({ ...parsed, layers: parsed.layers.map((layer) => ({ ...layer, size: 10 * 1024 * 1024 * 1024 })) });
    standIn.manifests.set('forge/victim:1.0.0', { bytes: huge, type: MANIFEST_MEDIA_TYPE });
    await rejectsWithCode(install(), 'FO_OCI_TOO_LARGE');
    assert.equal(standIn.requests.filter((line) => line.includes('/blobs/')).length, 0);
    await nothingInstalled();
  });

  test('a connection dropped mid-blob every time is retried, then FO_OCI_CONNECTION_DROPPED', async () => {
    const layer = standIn.blobs.get(served.layer.digest) ?? Buffer.alloc(0);
    standIn.intercept = (request, response) => {
      if (request.url !== blobPath(served.layer.digest)) return false;
      response.writeHead(200, { 'content-length': layer.length });
      response.write(layer.subarray(0, layer.length >> 1), () => response.socket?.destroy());
      return true;
    };
    await rejectsWithCode(install(), 'FO_OCI_CONNECTION_DROPPED');
    assert.equal(standIn.requests.filter((line) => line === `GET ${blobPath(served.layer.digest)}`).length, RETRIES + 1);
    await nothingInstalled();
  });

  test('a connection dropped mid-blob once is retried and the install completes', async () => {
    const layer = standIn.blobs.get(served.layer.digest) ?? Buffer.alloc(0);
    let drops = 1;
    standIn.intercept = (request, response) => {
      if (request.url !== blobPath(served.layer.digest) || drops === 0) return false;
      drops -= 1;
      response.writeHead(200, { 'content-length': layer.length });
      response.write(layer.subarray(0, layer.length >> 1), () => response.socket?.destroy());
      return true;
    };
    const done = await install();
    assert.equal(done.installed.plugin.name, 'victim');
  });

  test('5xx answers are retried with backoff; a registry that keeps failing is FO_OCI_SERVER_ERROR', async () => {
    let failures = 2;
    standIn.intercept = (request, response) => {
      if (!(request.url ?? '').includes('/manifests/1.0.0') || failures === 0) return false;
      failures -= 1;
      response.writeHead(503).end('{"errors":[{"code":"UNAVAILABLE","message":"try later"}]}');
      return true;
    };
    assert.equal((await install()).installed.plugin.name, 'victim');
    await store.uninstall('victim');
    standIn.intercept = (request, response) => {
      if (!(request.url ?? '').includes('/manifests/1.0.0')) return false;
      response.writeHead(500).end();
      return true;
    };
    await rejectsWithCode(install(), 'FO_OCI_SERVER_ERROR');
    assert.equal(standIn.requests.filter((line) => line.includes('/manifests/1.0.0')).length, 2 + 1 + RETRIES + 1);
    await nothingInstalled();
  });

  test('a registry that is not there is FO_OCI_UNREACHABLE', async () => {
    const port = await freePort();
    const lonely = new OciClient({ registry: `127.0.0.1:${port}`, retries: 1, backoffMs: 1 });
    await rejectsWithCode(installFromRegistry(lonely, parseReference(`127.0.0.1:${port}/forge/victim:1.0.0`), store), 'FO_OCI_UNREACHABLE');
    await nothingInstalled();
  });

  test('no signature referrer is FO_OCI_MISSING_SIGNATURE', async () => {
    standIn.manifests.delete(`forge/victim:sha256-${served.manifestDigest.slice('sha256:'.length)}`);
    await rejectsWithCode(install(), 'FO_OCI_MISSING_SIGNATURE');
    await nothingInstalled();
  });

  test('a referrer whose subject is another manifest is FO_OCI_PROTOCOL (no grafted signatures)', async () => {
    const key = `forge/victim:${served.signatureDigests[0] ?? ''}`;
    const real = standIn.manifests.get(key);
    assert.ok(real !== undefined);
    const parsed = parseManifest(real.bytes, 's');
    const grafted = encode({ ...parsed, subject: { ...(parsed.subject ?? { mediaType: MANIFEST_MEDIA_TYPE, size: 2 }), digest: digestOf(Buffer.from('other')) } });
    // The index points at the grafted manifest under its own digest, as a pusher could arrange.
    const digest = digestOf(grafted);
    standIn.manifests.set(`forge/victim:${digest}`, { bytes: grafted, type: MANIFEST_MEDIA_TYPE });
    const tag = `forge/victim:sha256-${served.manifestDigest.slice('sha256:'.length)}`;
    const index = JSON.parse((standIn.manifests.get(tag)?.bytes ?? Buffer.alloc(0)).toString('utf8')) as { manifests: { digest: string; size: number }[] };
    index.manifests = index.manifests.map((entry) => ({ ...entry, digest, size: grafted.length }));
    standIn.manifests.set(tag, { bytes: Buffer.from(JSON.stringify(index)), type: 'application/vnd.oci.image.index.v1+json' });
    await rejectsWithCode(install(), 'FO_OCI_PROTOCOL');
    await nothingInstalled();
  });

  test('an invalid signature bundle, consistent with its digests, is refused by the store', async () => {
    // A hostile registry re-publishes the whole chain with matching digests: only the signature check can catch it.
    const contents = await readPackage(signed);
    const files = contents.files.map((file) => {
      const data = contents.read(file.path) ?? Buffer.alloc(0);
      if (isSignedContent(file.path)) return { path: file.path, data };
      const bundle = JSON.parse(data.toString('utf8')) as { dsseEnvelope: { signatures: { sig: string }[] } };
      const first = bundle.dsseEnvelope.signatures[0];
      assert.ok(first !== undefined);
      const sig = Buffer.from(first.sig, 'base64');
      sig.writeUInt8((sig.readUInt8(10) ^ 0xff) & 0xff, 10);
      bundle.dsseEnvelope.signatures[0] = { ...first, sig: sig.toString('base64') };
      return { path: file.path, data: Buffer.from(JSON.stringify(bundle)) };
    });
    await serveArtifact(standIn, 'forge/victim', '1.0.0', writeArchive(files));
    await rejectsWithCode(install(), 'FO_VERIFY_SIGNATURE');
    await nothingInstalled();
  });

  test('Bearer auth: a token fetched with the credentials; without them FO_OCI_UNAUTHORIZED', async () => {
    standIn.bearer = { username: 'forge', password: 'sesame' };
    await rejectsWithCode(install(), 'FO_OCI_UNAUTHORIZED');
    standIn.requests.length = 0;
    const authed = new OciClient({ registry: standIn.host, credentials: { username: 'forge', password: 'sesame' } });
    const done = await installFromRegistry(authed, parseReference(`${standIn.host}/forge/victim:1.0.0`), store);
    assert.equal(done.installed.plugin.name, 'victim');
    assert.equal(standIn.requests.filter((line) => line.startsWith('GET /token')).length, 1, 'one token, cached for the scope');
  });
});

describe('malformed answers', () => {
  let standIn: StandIn;
  before(async () => {
    standIn = await startStandIn();
  });
  after(() => standIn.close());

  test('a manifest of another artifact type is FO_OCI_PROTOCOL', async () => {
    const served = await serveArtifact(standIn, 'forge/other', '1.0.0', await makeSigned({ name: 'other' }));
    const real = standIn.manifests.get('forge/other:1.0.0');
    assert.ok(real !== undefined && served.manifestDigest !== '');
    standIn.manifests.set('forge/other:1.0.0', { bytes: encode({ ...parseManifest(real.bytes, 'm'), artifactType: 'application/vnd.example.other' }), type: MANIFEST_MEDIA_TYPE });
    const store = await openStore();
    await rejectsWithCode(installFromRegistry(new OciClient({ registry: standIn.host }), parseReference(`${standIn.host}/forge/other:1.0.0`), store), 'FO_OCI_PROTOCOL');
    assert.deepEqual(await store.list(), []);
  });
});

describe('a registry that steers credentials or content elsewhere', () => {
  let standIn: StandIn;
  let elsewhere: Server;
  const seenElsewhere: string[] = [];
  before(async () => {
    standIn = await startStandIn();
    elsewhere = createServer((request, response) => {
      seenElsewhere.push(`${request.method ?? ''} ${request.url ?? ''} ${request.headers.authorization ?? ''}`);
      response.writeHead(202, { location: '/elsewhere/upload' }).end();
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    await standIn.close();
    await new Promise((resolve) => elsewhere.close(resolve));
  });

  test('an upload Location on another origin is refused (FO_OCI_PROTOCOL) and nothing is sent there, credentials included', async () => {
    const port = (elsewhere.address() as AddressInfo).port;
    standIn.intercept = (request, response) => {
      if (request.method !== 'POST' || !(request.url ?? '').includes('/blobs/uploads/')) return false;
      response.writeHead(202, { location: `http://127.0.0.1:${port}/v2/forge/steal/blobs/uploads/1` }).end();
      return true;
    };
    const client = new OciClient({ registry: standIn.host, credentials: { username: 'forge', password: 'sesame' }, retries: 0 });
    const error = await rejectsWithCode(pushPackage(client, parseReference(`${standIn.host}/forge/victim:1.0.0`), await makeSigned({ name: 'victim' })), 'FO_OCI_PROTOCOL');
    assert.match(error.message, new RegExp(`expected an upload location on http://${standIn.host}, found http://127\\.0\\.0\\.1:${port}`));
    assert.deepEqual(seenElsewhere, []);
  });

  test('a Bearer realm that is not https (or http beside an http registry) is refused (FO_OCI_PROTOCOL) before any password leaves', async () => {
    for (const realm of ['file:///etc/passwd', 'ftp://127.0.0.1/token', 'ws://127.0.0.1/token']) {
      standIn.intercept = (request, response) => {
        if (!(request.url ?? '').startsWith('/v2/')) return false;
        response.writeHead(401, { 'www-authenticate': `Bearer realm="${realm}",service="registry"` }).end();
        return true;
      };
      const client = new OciClient({ registry: standIn.host, credentials: { username: 'forge', password: 'sesame' }, retries: 0 });
      const store = await openStore();
      const error = await rejectsWithCode(installFromRegistry(client, parseReference(`${standIn.host}/forge/victim:1.0.0`), store), 'FO_OCI_PROTOCOL', realm);
      assert.equal(error.message, `http://${standIn.host}: expected an https token realm, found ${new URL(realm).protocol}`);
      assert.deepEqual(await store.list(), []);
    }
  });
});
