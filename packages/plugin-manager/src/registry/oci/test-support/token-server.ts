/**
 * A token server for distribution's `auth: token` in the tests: /token checks Basic
 * credentials and answers a JWT (ES256) granting the scopes asked, signed by a self-signed
 * P-256 certificate carried in the header's `x5c`, the certificate the registry is given
 * as its rootcertbundle.
 */
import { createPrivateKey, randomBytes, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { DAY } from '../../../attestation/test-support/pki.js';
import { makeRoot } from '../../../attestation/test-support/pki.js';
import { privateKeyPem } from '../../../attestation/crypto.js';
import { encodePem } from '../../../attestation/pem.js';

/** A running token server. */
export interface TokenServer {
  /** `http://127.0.0.1:<port>/token`. */
  readonly realm: string;
  readonly service: string;
  readonly issuer: string;
  /** PEM of the signing certificate: the registry's rootcertbundle. */
  readonly rootCertPem: string;
  /** How many tokens it minted. */
  readonly minted: () => number;
  close(): Promise<void>;
}

const b64url = (value: Buffer | string): string => Buffer.from(value).toString('base64url');

/** Starts a token server accepting `username`/`password`. */
export async function startTokenServer(username: string, password: string): Promise<TokenServer> {
  // Valid around the real clock (the registry checks it), not the fixtures' fixed NOW.
  const root = makeRoot('Forge Test Token Signer', { algorithm: 'ecdsa-p256', notBefore: Date.now() - DAY, notAfter: Date.now() + DAY });
  const key = createPrivateKey(privateKeyPem(root.key));
  const service = 'forge-test-registry';
  const issuer = 'forge-test-token-server';
  let minted = 0;
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://token');
    const expected = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    if (url.pathname !== '/token' || request.headers.authorization !== expected) return void response.writeHead(401).end();
    const access = url.searchParams.getAll('scope').flatMap((scope) => {
      const [type, name, actions] = scope.split(':');
      return type === 'repository' && name !== undefined && actions !== undefined ? [{ type, name, actions: actions.split(',') }] : [];
    });
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'ES256', x5c: [root.certificate.der.toString('base64')] }));
    const claims = b64url(JSON.stringify({ iss: issuer, sub: username, aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access }));
    const signature = sign('sha256', Buffer.from(`${header}.${claims}`), { key, dsaEncoding: 'ieee-p1363' });
    minted += 1;
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: `${header}.${claims}.${b64url(signature)}`, expires_in: 300 }));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    rootCertPem: encodePem('CERTIFICATE', root.certificate.der),
    minted: () => minted,
    close: () => new Promise((done) => server.close(() => done())),
  };
}
