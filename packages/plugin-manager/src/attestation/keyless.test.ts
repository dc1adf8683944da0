/**
 * Keyless Sigstore verification on real public bundles that this project did not make
 * (../shared/fixtures/sigstore, next to the repository), offline against the pinned
 * public-good trusted root, and on tampered copies of them. Under CI=true a missing
 * fixture directory fails the run; locally it skips with the reason.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import type { ErrorCode } from '@forgeone/common';
import { codeOf, inCi, throwsCode } from '@forgeone/common/testing';
import { readPackage } from '../loader/index.js';
import { parseTrustedRoot, verifyKeylessBundle, type KeylessTrust } from './keyless.js';
import { parseSignerPolicy } from './policy.js';
import { TrustStore } from './trust-store.js';
import { verifyPackage } from './verify.js';
import { makePackage, repoRoot, rewrite } from './test-support/pki.js';

const FIXTURES = resolve(repoRoot(), '..', 'shared', 'fixtures', 'sigstore');
const IDENTITY = { san: 'brian@dehamer.com', issuer: 'https://github.com/login/oauth' };

type Bundle = {
  dsseEnvelope: { payload: string; signatures: { sig: string }[] };
  verificationMaterial: { tlogEntries: { integratedTime: string; inclusionProof?: { hashes: string[]; rootHash: string } }[] };
};

function fixturesPresent(t: TestContext): boolean {
  if (existsSync(join(FIXTURES, 'trusted_root.json'))) return true;
  const reason = `Sigstore fixtures not found at ${FIXTURES}`;
  if (inCi()) throw new Error(`${reason}; CI must provide ../shared next to the repository`);
  t.skip(reason);
  return false;
}

let trustCache: KeylessTrust | undefined;
function trust(): KeylessTrust {
  trustCache ??= parseTrustedRoot(readFileSync(join(FIXTURES, 'trusted_root.json'), 'utf8'), 'trusted_root.json');
  return trustCache;
}

function bundleNames(): string[] {
  return existsSync(FIXTURES) ? readdirSync(FIXTURES).filter((name) => name.endsWith('.sigstore')).sort() : [];
}

function load(name: string): Bundle {
  return JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as Bundle;
}

/** Flips one bit in the middle of some base64 data. */
function flip(base64: string): string {
  const bytes = Buffer.from(base64, 'base64');
  const index = Math.floor(bytes.length / 2);
  bytes[index] = (bytes[index] ?? 0) ^ 0x01;
  return bytes.toString('base64');
}

/** Verifies a fixture bundle offline against the pinned trusted root, allowing `identities`. */
function verifyFixture(json: unknown, identities = [IDENTITY]): unknown {
  return verifyKeylessBundle(json, trust(), { source: 'fixture', identities });
}

describe('keyless Sigstore bundles (real public fixtures)', () => {
  it('finds all nine fixture bundles next to the repository', (t) => {
    if (!fixturesPresent(t)) return;
    assert.equal(bundleNames().length, 9);
  });

  for (const name of ['bundleV01-dsse-no-proof', 'bundleV01-dsse-with-proof', 'bundleV01-full-cert-chain', 'bundleV01-intoto-no-proof', 'bundleV01-intoto-with-proof', 'bundleV02-dsse', 'bundleV02-intoto', 'bundleV03-dsse', 'bundleV03-intoto']) {
    const file = `${name}.sigstore`;

    it(`verifies ${file} offline against the pinned trusted root with identity policy`, (t) => {
      if (!fixturesPresent(t)) return;
      const result = verifyKeylessBundle(load(file), trust(), { source: file, identities: [IDENTITY] });
      assert.deepEqual(result.identity, IDENTITY);
      assert.equal(result.payloadType, 'application/vnd.in-toto+json');
      assert.match(result.keyid, /^[0-9a-f]{64}$/);
      if (name.includes('intoto')) {
        const statement = JSON.parse(result.payload.toString()) as { subject: unknown };
        const expected = JSON.parse(readFileSync(join(FIXTURES, 'statement.json'), 'utf8')) as { subject: unknown };
        assert.deepEqual(statement.subject, expected.subject);
      }
    });

    it(`refuses ${file} with a tampered payload with FO_KEYLESS_VERIFICATION`, (t) => {
      if (!fixturesPresent(t)) return;
      const bundle = load(file);
      bundle.dsseEnvelope.payload = flip(bundle.dsseEnvelope.payload);
      throwsCode(() => verifyFixture(bundle), 'FO_KEYLESS_VERIFICATION');
    });

    it(`refuses ${file} with a tampered signature with FO_KEYLESS_VERIFICATION`, (t) => {
      if (!fixturesPresent(t)) return;
      const bundle = load(file);
      const signature = bundle.dsseEnvelope.signatures[0] as { sig: string };
      signature.sig = flip(signature.sig);
      throwsCode(() => verifyFixture(bundle), 'FO_KEYLESS_VERIFICATION');
    });

    it(`refuses ${file} with a shifted integrated time with FO_KEYLESS_VERIFICATION`, (t) => {
      if (!fixturesPresent(t)) return;
      const bundle = load(file);
      const entry = bundle.verificationMaterial.tlogEntries[0] as { integratedTime: string };
      entry.integratedTime = String(Number(entry.integratedTime) + 3600);
      throwsCode(() => verifyFixture(bundle), 'FO_KEYLESS_VERIFICATION');
    });

    it(`refuses ${file} when the identity policy names someone else with FO_KEYLESS_IDENTITY`, (t) => {
      if (!fixturesPresent(t)) return;
      const cases: [typeof IDENTITY[], string][] = [
        [[{ ...IDENTITY, san: 'mallory@example.com' }], 'other SAN'],
        [[{ ...IDENTITY, issuer: 'https://accounts.google.com' }], 'other issuer'],
        [[], 'no identity at all'],
      ];
      for (const [identities, what] of cases) {
        const error = throwsCode(() => verifyFixture(load(file), identities), 'FO_KEYLESS_IDENTITY', what);
        assert.equal(error.kind, 'denied');
      }
    });
  }

  it('refuses a tampered inclusion proof (hash or root) with FO_KEYLESS_VERIFICATION', (t) => {
    if (!fixturesPresent(t)) return;
    const withProof = bundleNames().filter((name) => load(name).verificationMaterial.tlogEntries[0]?.inclusionProof !== undefined);
    assert.ok(withProof.length >= 6, `expected bundles with proofs, found ${withProof.join(', ')}`);
    for (const name of withProof) {
      for (const part of ['hash', 'root'] as const) {
        const bundle = load(name);
        const proof = bundle.verificationMaterial.tlogEntries[0]?.inclusionProof as { hashes: string[]; rootHash: string };
        if (part === 'hash') proof.hashes[0] = flip(proof.hashes[0] ?? '');
        else proof.rootHash = flip(proof.rootHash);
        const error = throwsCode(() => verifyFixture(bundle), 'FO_KEYLESS_VERIFICATION', `${name} ${part}`);
        assert.equal(error.details['sigstoreCode'], 'TLOG_INCLUSION_PROOF_ERROR', `${name} ${part}`);
      }
    }
  });

  it('refuses a trusted root that is not one with FO_TRUSTSTORE_INVALID', () => {
    for (const text of ['{', '{"mediaType":"x"}', JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1', tlogs: [], certificateAuthorities: [] })]) {
      throwsCode(() => parseTrustedRoot(text, 'root.json'), 'FO_TRUSTSTORE_INVALID', text);
    }
  });
});

describe('keyless bundles inside packages', () => {
  async function packageWith(name: string): Promise<Buffer> {
    return rewrite(makePackage(), (files) => [...files, { path: 'attestations/keyless.sigstore.json', data: readFileSync(join(FIXTURES, name)) }]);
  }

  async function code(bytes: Buffer, store: TrustStore, policyText?: string): Promise<ErrorCode | 'ok'> {
    const policy = policyText === undefined ? undefined : parseSignerPolicy(policyText, 'policy.json');
    return codeOf(async () => verifyPackage(await readPackage(bytes), { trustStore: store, ...(policy === undefined ? {} : { policy }) }));
  }

  it('takes a bundle with transparency-log entries down the keyless path, needing a trusted root and an allowed identity', async (t) => {
    if (!fixturesPresent(t)) return;
    const bytes = await packageWith('bundleV03-intoto.sigstore');
    assert.equal(await code(bytes, TrustStore.create({})), 'FO_SIGNER_UNTRUSTED');
    const store = TrustStore.create({ keyless: trust() });
    assert.equal(await code(bytes, store), 'FO_KEYLESS_IDENTITY', 'no keyless identity is allowed by default');
    const allowed = JSON.stringify({ version: 1, keyless: [IDENTITY] });
    // The bundle verifies and its signer is allowed, but it signs an npm statement, not this package.
    assert.equal(await code(bytes, store, allowed), 'FO_VERIFY_STATEMENT_INVALID');
    const tampered = await rewrite(bytes, (files) =>
      files.map((file) => {
        if (!file.path.startsWith('attestations/')) return file;
        const bundle = JSON.parse(Buffer.from(file.data).toString()) as Bundle;
        bundle.dsseEnvelope.payload = flip(bundle.dsseEnvelope.payload);
        return { path: file.path, data: Buffer.from(JSON.stringify(bundle)) };
      }),
    );
    assert.equal(await code(tampered, store, allowed), 'FO_KEYLESS_VERIFICATION');
  });
});
