/**
 * Hostile test: the pinned transport over TLS. The connection goes to the guard's address,
 * but the URL's name is what TLS proves: it is the server name (SNI), the Host header and
 * the identity the certificate must carry, so a guard's address serving another name's
 * certificate is refused. A self-signed certificate made with openssl; skipped without it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { requireTool } from '@forgeone/common/testing';
import { pinnedTransport, type ConnectionGuard } from './transport.js';

const NAME = 'registry.pinned.invalid';

describe('the pinned transport over https', () => {
  let server: Server | undefined;
  let cert = '';
  let port = 0;
  const seen: { servername: string | false | null | undefined; host: string | undefined }[] = [];
  const asked: string[] = [];
  const guard: ConnectionGuard = (url) => {
    asked.push(url.host);
    return Promise.resolve([{ address: '127.0.0.1', family: 4 }]);
  };

  before(async () => {
    if (spawnSync('openssl', ['version']).status !== 0) return;
    const dir = await mkdtemp(join(tmpdir(), 'forge-pinned-tls-'));
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', `/CN=${NAME}`, '-addext', `subjectAltName=DNS:${NAME}`, '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`openssl failed: ${made.stderr}`);
    cert = await readFile(join(dir, 'cert.pem'), 'utf8');
    const key = await readFile(join(dir, 'key.pem'), 'utf8');
    await rm(dir, { recursive: true, force: true });
    server = createServer({ key, cert }, (request, response) => {
      seen.push({ servername: (request.socket as TLSSocket).servername, host: request.headers.host });
      response.writeHead(200, { 'content-type': 'text/plain' }).end('pinned');
    });
    await new Promise<void>((done) => server?.listen(0, '127.0.0.1', done));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server?.closeAllConnections();
    await new Promise<void>((done) => (server === undefined ? done() : server.close(() => done())));
  });

  it('connects to the guard\'s address with the URL\'s name as server name, Host header and certificate identity; another name\'s certificate is refused', async (t) => {
    if (!requireTool(t, 'openssl', ['version']) || server === undefined) return;
    const transport = pinnedTransport(guard, { ca: cert });
    const answer = await transport(new URL(`https://${NAME}:${port}/v2/`), { method: 'GET', headers: {}, signal: AbortSignal.timeout(30_000) });
    assert.deepEqual([answer.status, await answer.text()], [200, 'pinned']);
    assert.deepEqual(seen, [{ servername: NAME, host: `${NAME}:${port}` }]);
    const other = await transport(new URL(`https://other.pinned.invalid:${port}/v2/`), { method: 'GET', headers: {}, signal: AbortSignal.timeout(30_000) }).then(
      () => assert.fail('a certificate for another name was accepted'),
      (error: unknown) => (error as { code?: unknown }).code,
    );
    assert.equal(other, 'ERR_TLS_CERT_ALTNAME_INVALID');
    assert.equal(seen.length, 1, 'no request was sent over the refused connection');
    assert.deepEqual(asked, [`${NAME}:${port}`, `other.pinned.invalid:${port}`]);
  });
});
