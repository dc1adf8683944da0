/**
 * A chunked upload whose chunk the registry took before the connection failed: behind a
 * proxy that loses the answer to one PATCH, docker-registry (which cancels an upload
 * whose retried chunk no longer matches its state) gets it started over; a registry that follows the spec's resume (a small
 * spec-shaped upload endpoint here) is asked where the upload stands and continued;
 * a status claiming bytes never sent, and endless failures, end the push.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { rejectsWithCode } from '@forgeone/common/testing';
import { makeSigned } from '../store/test-support/fixtures.js';
import { MAX_RECOVERIES, sendChunks } from './chunks.js';
import { OciClient } from './client.js';
import { pullPackage } from './pull.js';
import { pushPackage } from './push.js';
import { parseReference } from './reference.js';
import { requireRegistry, startRegistryIfPossible, type TestRegistry } from './test-support/registry.js';

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; host: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, host: `127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function bodyOf(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part)).on('end', () => resolve(Buffer.concat(parts))).on('error', reject);
  });
}

describe('chunked uploads that fail part-way', () => {
  let registry: TestRegistry | undefined;
  const servers: Server[] = [];
  before(async () => {
    registry = await startRegistryIfPossible();
  });
  after(async () => {
    for (const server of servers) server.close();
    await registry?.stop();
  });

  test('docker-registry: a PATCH the registry took but whose answer was lost; its retry is refused, the upload starts over and the package comes back whole', async (t) => {
    if (!requireRegistry(t) || registry === undefined) return;
    const upstream = registry.host;
    const seen: string[] = [];
    let patches = 0;
    const proxy = await listen((req, res) => {
      void bodyOf(req).then((body) => {
        seen.push(`${req.method ?? ''} ${(req.url ?? '').split('?')[0] ?? ''}`);
        const lost = req.method === 'PATCH' && ++patches === 2;
        const forward = request({ host: '127.0.0.1', port: Number(upstream.split(':')[1]), method: req.method, path: req.url, headers: req.headers }, (answer) => {
          if (lost) {
            // The registry took the whole chunk, but its answer never reaches the client.
            seen.push(`(lost ${answer.statusCode ?? 0})`);
            answer.resume();
            return void res.writeHead(502).end();
          }
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        });
        forward.end(body);
      });
    });
    servers.push(proxy.server);
    const client = new OciClient({ registry: proxy.host, backoffMs: 1 });
    const bytes = await makeSigned({ name: 'cut', assets: { 'big.bin': randomBytes(40_000) } });
    const ref = parseReference(`${proxy.host}/forge/cut:1.0.0`);
    await pushPackage(client, ref, bytes, { chunkSize: 4096 });
    const posts = seen.filter((line) => line === 'POST /v2/forge/cut/blobs/uploads/').length;
    assert.ok(posts >= 2, `the layer's upload was started over (saw: ${seen.join(', ')})`);
    const pulled = await pullPackage(new OciClient({ registry: upstream }), parseReference(`${upstream}/forge/cut:1.0.0`));
    assert.ok(pulled.bytes.equals(Buffer.from(bytes)));
  });

  /** A spec-shaped upload endpoint at /up: PATCH appends at the offset it holds (416 otherwise), GET tells the offset, `cut` PATCHes keep half their body and drop the connection. */
  async function resumable(cut: ReadonlySet<number>, range?: (size: number) => string): Promise<{ host: string; received: () => Buffer; seen: string[] }> {
    let held = Buffer.alloc(0);
    let patches = 0;
    const seen: string[] = [];
    const { server, host } = await listen((req, res) => {
      void bodyOf(req).then((body) => {
        seen.push(`${req.method ?? ''} ${req.headers['content-range'] ?? ''}`.trim());
        const location = { location: `http://${host}/up` };
        if (req.method === 'GET') return void res.writeHead(204, { ...location, range: range?.(held.length) ?? `0-${held.length - 1}` }).end();
        const start = Number(String(req.headers['content-range']).split('-')[0]);
        if (start !== held.length) return void res.writeHead(416, location).end();
        patches += 1;
        if (cut.has(patches)) {
          held = Buffer.concat([held, body.subarray(0, body.length >> 1)]);
          return void res.socket?.destroy();
        }
        held = Buffer.concat([held, body]);
        res.writeHead(202, location).end();
      });
    });
    servers.push(server);
    return { host, received: () => held, seen };
  }

  test('a registry that resumes: the status is read and the upload goes on from the byte it names', async () => {
    const fake = await resumable(new Set([3]));
    const bytes = Buffer.from(createHash('sha512').update('chunks').digest().toString('hex').repeat(40));
    const client = new OciClient({ registry: fake.host, backoffMs: 1, retries: 1 });
    const upload = { repository: 'forge/x', scope: 'repository:forge/x:pull,push', what: 'blob', bytes, chunkSize: 1000 };
    await sendChunks(client, upload, `http://${fake.host}/up`);
    assert.ok(fake.received().equals(bytes), 'every byte once, in order');
    // The third chunk was half taken; its retry was refused (416), the status said 2500, and it went on from there.
    assert.deepEqual(fake.seen.slice(2, 6), ['PATCH 2000-2999', 'PATCH 2000-2999', 'GET', 'PATCH 2500-3499']);
  });

  test('a status claiming bytes never sent is FO_OCI_PROTOCOL; failures past the bound end the upload with the last one', async () => {
    const liar = await resumable(new Set([2]), () => '0-999999');
    const bytes = Buffer.alloc(5000, 1);
    const upload = { repository: 'forge/x', scope: 'repository:forge/x:pull,push', what: 'blob', bytes, chunkSize: 1000 };
    const error = await rejectsWithCode(sendChunks(new OciClient({ registry: liar.host, backoffMs: 1, retries: 1 }), upload, `http://${liar.host}/up`), 'FO_OCI_PROTOCOL');
    assert.match(error.message, /claims 1000000 bytes, but 2000 were sent/);

    let patches = 0;
    const { server, host } = await listen((req, res) => void bodyOf(req).then(() => {
      if (req.method === 'PATCH') patches += 1;
      res.writeHead(req.method === 'POST' ? 202 : 503, { location: `http://${host}/up` }).end();
    }));
    servers.push(server);
    await rejectsWithCode(sendChunks(new OciClient({ registry: host, backoffMs: 1, retries: 0 }), upload, `http://${host}/up`), 'FO_OCI_SERVER_ERROR');
    assert.equal(patches, MAX_RECOVERIES + 1, 'the first chunk tried once, then once after each recovery');
  });
});
