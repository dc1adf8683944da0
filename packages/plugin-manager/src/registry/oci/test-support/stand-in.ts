/**
 * A registry stand-in in Node for the hostile cases a real registry never produces:
 * it serves a plugin artifact from memory (manifests, blobs, the sha256- referrers tag)
 * and lets a test intercept any request to tamper, drop, stall or fail it. It can also
 * ask for Bearer tokens from its own /token endpoint.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isSignedContent, readPackage } from '../../../loader/index.js';
import { EMPTY_BLOB, INDEX_MEDIA_TYPE, MANIFEST_MEDIA_TYPE, describe, digestOf, encode, pluginManifest, signatureManifest, type Descriptor } from '../manifest.js';
import { pluginLayer } from '../push.js';
import { fallbackTag } from '../referrers.js';

/** Handles a request itself when it returns true. */
export type Intercept = (request: IncomingMessage, response: ServerResponse) => boolean;

/** A running stand-in. */
export interface StandIn {
  readonly host: string;
  /** `digest -> bytes`. */
  readonly blobs: Map<string, Buffer>;
  /** `repo:reference -> bytes` (reference = tag or digest). */
  readonly manifests: Map<string, { bytes: Buffer; type: string }>;
  /** Every request line seen, e.g. `GET /v2/a/blobs/sha256:...`. */
  readonly requests: string[];
  intercept: Intercept | undefined;
  /** Require `Bearer <token>`, minted by /token for these credentials. */
  bearer: { username: string; password: string } | undefined;
  close(): Promise<void>;
}

/** What {@link serveArtifact} put up. */
export interface ServedArtifact {
  readonly manifestDigest: string;
  readonly layer: Descriptor;
  readonly bundles: readonly Descriptor[];
  readonly signatureDigests: readonly string[];
}

const TOKEN = 'stand-in-token';

function route(standIn: StandIn, request: IncomingMessage, response: ServerResponse): void {
  const url = new URL(request.url ?? '/', 'http://stand-in');
  if (url.pathname === '/token') {
    const expected = `Basic ${Buffer.from(`${standIn.bearer?.username ?? ''}:${standIn.bearer?.password ?? ''}`).toString('base64')}`;
    if (request.headers.authorization !== expected) return void response.writeHead(401).end();
    return void response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: TOKEN, expires_in: 300 }));
  }
  if (standIn.bearer !== undefined && request.headers.authorization !== `Bearer ${TOKEN}`) {
    response.writeHead(401, { 'www-authenticate': `Bearer realm="http://${standIn.host}/token",service="stand-in",scope="x"` });
    return void response.end('{"errors":[{"code":"UNAUTHORIZED","message":"token required"}]}');
  }
  const manifest = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
  if (manifest !== null) {
    const found = standIn.manifests.get(`${manifest[1] ?? ''}:${manifest[2] ?? ''}`);
    if (found === undefined) return void response.writeHead(404).end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
    response.writeHead(200, { 'content-type': found.type, 'content-length': found.bytes.length });
    return void response.end(request.method === 'HEAD' ? undefined : found.bytes);
  }
  const blob = /^\/v2\/(.+)\/blobs\/(sha256:[a-f0-9]{64})$/.exec(url.pathname);
  const bytes = blob === null ? undefined : standIn.blobs.get(blob[2] ?? '');
  if (bytes !== undefined) {
    response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length });
    return void response.end(request.method === 'HEAD' ? undefined : bytes);
  }
  response.writeHead(404).end();
}

/** Starts a stand-in on 127.0.0.1 with an OS-chosen port. */
export async function startStandIn(): Promise<StandIn> {
  const server: Server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const standIn: StandIn = {
    host: `127.0.0.1:${port}`,
    blobs: new Map(),
    manifests: new Map(),
    requests: [],
    intercept: undefined,
    bearer: undefined,
    close: () =>
      new Promise((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    standIn.requests.push(`${request.method ?? ''} ${request.url ?? ''}`);
    if (standIn.intercept?.(request, response) === true) return;
    route(standIn, request, response);
  });
  return standIn;
}

/** Puts `pkg` up as `repo:tag` the way push would, signatures under the sha256- tag. */
export async function serveArtifact(standIn: StandIn, repo: string, tag: string, pkg: Uint8Array): Promise<ServedArtifact> {
  const contents = await readPackage(pkg);
  const layer = pluginLayer(contents);
  const manifest = encode(pluginManifest(layer, {}));
  const subject = describe(manifest, MANIFEST_MEDIA_TYPE);
  standIn.blobs.set(digestOf(EMPTY_BLOB), EMPTY_BLOB);
  standIn.blobs.set(digestOf(layer), layer);
  standIn.manifests.set(`${repo}:${tag}`, { bytes: manifest, type: MANIFEST_MEDIA_TYPE });
  standIn.manifests.set(`${repo}:${subject.digest}`, { bytes: manifest, type: MANIFEST_MEDIA_TYPE });
  const referrers: Descriptor[] = [];
  const bundles: Descriptor[] = [];
  for (const file of contents.files.filter((entry) => !isSignedContent(entry.path))) {
    const bundle = contents.read(file.path) ?? Buffer.alloc(0);
    const document = signatureManifest(bundle, file.path.slice('attestations/'.length), subject);
    const bytes = encode(document);
    const descriptor = describe(bytes, MANIFEST_MEDIA_TYPE, { artifactType: document.artifactType ?? '' });
    standIn.blobs.set(digestOf(bundle), bundle);
    standIn.manifests.set(`${repo}:${descriptor.digest}`, { bytes, type: MANIFEST_MEDIA_TYPE });
    referrers.push(descriptor);
    bundles.push(document.layers[0] ?? descriptor);
  }
  standIn.manifests.set(`${repo}:${fallbackTag(subject.digest)}`, { bytes: encode({ schemaVersion: 2, mediaType: INDEX_MEDIA_TYPE, manifests: referrers }), type: INDEX_MEDIA_TYPE });
  return { manifestDigest: subject.digest, layer: describe(layer, 'application/vnd.forgeone.plugin.v1+tar+gzip'), bundles, signatureDigests: referrers.map((entry) => entry.digest) };
}
