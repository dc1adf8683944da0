import assert from 'node:assert/strict';
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { safeSegments, serveDirectory, type ServingDirectory } from './serve.js';

/** A raw request: the path goes out exactly as written (no URL normalisation). */
function raw(served: ServingDirectory, method: string, path: string): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const { port } = new URL(served.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body, headers: response.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('forge marketplace serve: the static server', () => {
  let served: ServingDirectory;
  before(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'forge-serve-'));
    await mkdir(join(dir, 'public', 'metadata'), { recursive: true });
    await writeFile(join(dir, 'public', 'metadata', 'timestamp.json'), '{"ok":true}');
    await writeFile(join(dir, 'secret.pem'), 'PRIVATE KEY');
    await symlink(join(dir, 'secret.pem'), join(dir, 'public', 'metadata', 'link.json'));
    served = await serveDirectory(join(dir, 'public'));
  });
  after(() => served.close());

  it('binds to 127.0.0.1 by default and serves files with GET and HEAD', async () => {
    assert.match(served.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const got = await raw(served, 'GET', '/metadata/timestamp.json');
    assert.deepEqual([got.status, got.body, got.headers['content-type'], got.headers['x-content-type-options']], [200, '{"ok":true}', 'application/json', 'nosniff']);
    const head = await raw(served, 'HEAD', '/metadata/timestamp.json');
    assert.deepEqual([head.status, head.body, head.headers['content-length']], [200, '', '11']);
  });

  it('refuses other methods, traversal (plain, encoded, backslash), symlinks out of the directory and directory listings', async () => {
    assert.equal((await raw(served, 'PUT', '/metadata/timestamp.json')).status, 405);
    assert.equal((await raw(served, 'DELETE', '/metadata/timestamp.json')).status, 405);
    for (const path of ['/../secret.pem', '/metadata/../../secret.pem', '/%2e%2e/secret.pem', '/metadata%2f..%2f..%2fsecret.pem', '/..%5csecret.pem', '/metadata/%00', '/%zz']) {
      const response = await raw(served, 'GET', path);
      assert.equal(response.status, 400, path);
      assert.equal(response.body.includes('PRIVATE'), false, path);
    }
    const link = await raw(served, 'GET', '/metadata/link.json');
    assert.equal(link.status, 404);
    assert.equal(link.body.includes('PRIVATE'), false);
    assert.equal((await raw(served, 'GET', '/metadata')).status, 404);
    assert.equal((await raw(served, 'GET', '/metadata/missing.json')).status, 404);
  });

  it('accepts only plain segments', () => {
    assert.deepEqual(safeSegments('/metadata/1.root.json?x=1'), ['metadata', '1.root.json']);
    for (const path of ['', 'metadata/x', '/', '/a//b', '/./a', '/a/..', '/a%2Fb']) assert.equal(safeSegments(path), undefined, path);
  });
});
