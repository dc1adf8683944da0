import assert from 'node:assert/strict';
import { test } from 'node:test';
import { throwsCode } from '@forgeone/common/testing';
import { formatReference, isLoopbackHost, parseReference } from './reference.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

test('parses host[:port]/repository[:tag][@digest], defaulting to the tag latest', () => {
  assert.deepEqual(parseReference('ghcr.io/acme/tools/hello:1.0.0'), { registry: 'ghcr.io', repository: 'acme/tools/hello', tag: '1.0.0', digest: undefined });
  assert.deepEqual(parseReference('127.0.0.1:5000/hello'), { registry: '127.0.0.1:5000', repository: 'hello', tag: 'latest', digest: undefined });
  assert.deepEqual(parseReference(`localhost/hello@${DIGEST}`), { registry: 'localhost', repository: 'hello', tag: undefined, digest: DIGEST });
  assert.equal(formatReference(parseReference(`Reg.Example:443/a/b:v1@${DIGEST}`)), `reg.example:443/a/b:v1@${DIGEST}`);
});

test('refuses references without an explicit registry or with a bad part (FO_OCI_BAD_REFERENCE)', () => {
  for (const bad of [
    'hello:1.0.0',
    'acme/hello:1.0.0',
    'ghcr.io/Acme/hello',
    'ghcr.io/hello:bad tag',
    'ghcr.io/hello@sha256:short',
    `ghcr.io/hello@md5:${'a'.repeat(32)}`,
    'ghcr.io/../hello',
    'ghcr.io/',
    `ghcr.io/${'a'.repeat(300)}`,
    'gh cr.io/hello',
  ]) {
    throwsCode(() => parseReference(bad), 'FO_OCI_BAD_REFERENCE', bad);
  }
});

test('plain http is the default for loopback hosts only', () => {
  assert.equal(isLoopbackHost('127.0.0.1:5000'), true);
  assert.equal(isLoopbackHost('localhost'), true);
  assert.equal(isLoopbackHost('[::1]:5000'), true);
  assert.equal(isLoopbackHost('127.example.com'), false);
  assert.equal(isLoopbackHost('ghcr.io'), false);
});
