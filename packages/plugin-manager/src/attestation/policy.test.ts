import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ErrorCode } from '@forgeone/common';
import { rejectsWithCode, throwsCode } from '@forgeone/common/testing';
import { readPackage } from '../loader/index.js';
import { DEFAULT_SIGNER_POLICY, parseSignerPolicy, ruleFor, type SignerPolicy } from './policy.js';
import { signPackage } from './sign.js';
import { TrustStore } from './trust-store.js';
import { verifyPackage, type PackageVerification } from './verify.js';
import { NOW, makeIssued, makePackage, makeRoot, rewrite } from './test-support/pki.js';

const root = makeRoot('Policy Root');
const alice = makeIssued(root, 'Alice Plugins', false);
const bob = makeIssued(root, 'Bob Security', false, { algorithm: 'ecdsa-p256' });
const alice2 = makeIssued(root, 'Alice Plugins', false);
const store = TrustStore.create({ roots: [root.certificate] });

async function signedBy(...signers: (typeof alice)[]): Promise<Buffer> {
  let bytes = makePackage({ name: 'payments' });
  for (const signer of signers) bytes = (await signPackage(bytes, { key: signer.key, certificate: signer.certificate.der, now: NOW })).bytes;
  return bytes;
}

function policy(json: Record<string, unknown>): SignerPolicy {
  return parseSignerPolicy(JSON.stringify({ version: 1, ...json }), 'policy.json');
}

async function run(bytes: Buffer, signerPolicy: SignerPolicy): Promise<PackageVerification> {
  return verifyPackage(await readPackage(bytes), { trustStore: store, policy: signerPolicy, now: NOW });
}

/** Asserts that verification under `signerPolicy` refuses the package with `code`, as a denial. */
async function refused(bytes: Buffer, signerPolicy: SignerPolicy, code: ErrorCode): Promise<void> {
  const error = await rejectsWithCode(run(bytes, signerPolicy), code);
  assert.equal(error.kind, 'denied');
}

describe('signer policy', () => {
  it('allows any trusted publisher with threshold 1 when no policy is given', async () => {
    const result = await run(await signedBy(bob), DEFAULT_SIGNER_POLICY);
    assert.equal(result.identity.publisher, 'Bob Security');
    assert.equal(result.threshold, 1);
  });

  it('refuses a verified publisher the policy does not list with FO_SIGNER_NOT_ALLOWED (kind denied)', async () => {
    await refused(await signedBy(bob), policy({ publishers: ['Alice Plugins'] }), 'FO_SIGNER_NOT_ALLOWED');
    assert.equal((await run(await signedBy(alice), policy({ publishers: ['Alice Plugins'] }))).identity.publisher, 'Alice Plugins');
  });

  it('needs the threshold of distinct allowed publishers, refusing fewer with FO_SIGNER_THRESHOLD', async () => {
    const twoOf = policy({ threshold: 2, publishers: ['Alice Plugins', 'Bob Security'] });
    await refused(await signedBy(alice), twoOf, 'FO_SIGNER_THRESHOLD');
    const both = await run(await signedBy(alice, bob), twoOf);
    assert.deepEqual(both.accepted.map((signature) => signature.publisher).sort(), ['Alice Plugins', 'Bob Security']);
    // Two keys of one publisher are one publisher.
    await refused(await signedBy(alice, alice2), twoOf, 'FO_SIGNER_THRESHOLD');
  });

  it('counts only allowed publishers toward the threshold and reports the others as rejected', async () => {
    const result = await run(await signedBy(alice, bob), policy({ publishers: ['Alice Plugins'] }));
    assert.equal(result.accepted.length, 1);
    assert.equal(result.rejected.length, 1);
    assert.equal(result.rejected[0]?.error.code, 'FO_SIGNER_NOT_ALLOWED');
  });

  it('applies per-plugin overrides and inherits the rest', async () => {
    const perPlugin = policy({ publishers: ['Alice Plugins', 'Bob Security'], plugins: { payments: { threshold: 2 } } });
    assert.deepEqual(ruleFor(perPlugin, 'payments'), { threshold: 2, publishers: ['Alice Plugins', 'Bob Security'], keyless: [] });
    assert.deepEqual(ruleFor(perPlugin, 'other'), { threshold: 1, publishers: ['Alice Plugins', 'Bob Security'], keyless: [] });
    await refused(await signedBy(alice), perPlugin, 'FO_SIGNER_THRESHOLD');
    assert.equal(ruleFor(perPlugin, 'constructor').threshold, 1, 'prototype names are not plugin entries');
  });

  it('lets a valid signature count while a broken one beside it is reported, not fatal', async () => {
    const valid = await signedBy(alice);
    const withJunk = await rewrite(valid, (files) => [...files, { path: 'attestations/junk.sigstore.json', data: Buffer.from('not json') }]);
    const result = await run(withJunk, DEFAULT_SIGNER_POLICY);
    assert.equal(result.identity.publisher, 'Alice Plugins');
    assert.deepEqual(result.rejected.map((entry) => [entry.attestation, entry.error.code]), [['attestations/junk.sigstore.json', 'FO_BUNDLE_MALFORMED']]);
  });

  it('reports the first failure with every rejection in details when no signature counts', async () => {
    const junk = await rewrite(makePackage(), (files) => [
      ...files,
      { path: 'attestations/a.sigstore.json', data: Buffer.from('{') },
      { path: 'attestations/b.sigstore.json', data: Buffer.from('[]') },
    ]);
    const error = await rejectsWithCode(run(junk, DEFAULT_SIGNER_POLICY), 'FO_BUNDLE_MALFORMED');
    assert.equal((error.details['rejected'] as unknown[]).length, 2);
    assert.match(error.message, /and 1 more attestation failed/);
  });

  it('refuses a malformed policy file with FO_SIGNER_POLICY_INVALID listing every problem', () => {
    const error = throwsCode(
      () => parseSignerPolicy(JSON.stringify({ version: 2, threshold: 0, publishers: ['a', 'a'], keyless: [{ san: 'x' }], extra: true }), 'policy.json'),
      'FO_SIGNER_POLICY_INVALID',
    );
    const paths = (error.details['issues'] as { path: string }[]).map((issue) => issue.path).sort();
    assert.deepEqual(paths, ['extra', 'keyless[0].issuer', 'publishers[1]', 'threshold', 'version']);
    throwsCode(() => parseSignerPolicy('{', 'policy.json'), 'FO_SIGNER_POLICY_INVALID');
  });
});
