/**
 * Hostile tests: every package load the registry refuses leaves an audit denial record
 * naming what was asked for (the source path, and the package's claimed name, version
 * and digest as far as they could be read) and the refusal's code and message.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { IdentityContext, type ErrorCode, type ForgeError } from '@forgeone/common';
import { rejectsWithCode } from '@forgeone/common/testing';
import { readAuditTail, type AuditEventRecord } from '@forgeone/microkernel';
import type { OpenPackageOptions } from '../attestation/index.js';
import { NOW, rewrite } from '../attestation/test-support/pki.js';
import { readPackage } from '../loader/index.js';
import { PluginManager } from './manager.js';
import { PluginStore } from './store/index.js';
import { PUBLISHERS, packagedPlugin, revokingTrustStore, testRegistry, trustStore } from './test-support/plugins.js';

/** The plugin.load denials in a registry's audit log, after it was closed. */
async function loadDenials(dir: string): Promise<AuditEventRecord[]> {
  const tail = await readAuditTail({ path: join(dir, 'audit.log'), limit: 1000 });
  return tail.records.filter((record): record is AuditEventRecord => record.type === 'event' && record.action === 'plugin.load');
}

interface Case {
  /** The refusal, as the brief names it. */
  readonly kind: string;
  readonly code: ErrorCode;
  readonly yaml?: string;
  readonly attestation?: (digest: string) => OpenPackageOptions;
  /** The package offered; it is written to a file and loaded by path. */
  readonly offered: () => Promise<Buffer>;
  /** Loaded first, successfully. */
  readonly before?: readonly (() => Promise<Buffer>)[];
  /** Whether the record can name the package's claimed name, version and digest. */
  readonly claimKnown: boolean;
  /** Whether the record names the verified publisher. */
  readonly publisherKnown: boolean;
}

const CASES: readonly Case[] = [
  { kind: 'unsigned while signatures are required', code: 'FO_VERIFY_UNSIGNED', offered: () => packagedPlugin({ name: 'wallet', signer: null }), claimKnown: true, publisherKnown: false },
  { kind: 'signed by a signer no trust root vouches for', code: 'FO_SIGNER_UNTRUSTED', offered: () => packagedPlugin({ name: 'wallet', signer: 'stranger' }), claimKnown: true, publisherKnown: false },
  {
    kind: 'revoked',
    code: 'FO_REVOKED_PACKAGE',
    attestation: (digest) => ({ verifySignatures: true, trustStore: revokingTrustStore([digest]), now: NOW }),
    offered: () => packagedPlugin({ name: 'wallet' }),
    claimKnown: true,
    publisherKnown: false,
  },
  {
    kind: 'a file that does not match its signed digest',
    code: 'FO_VERIFY_DIGEST_MISMATCH',
    offered: async () =>
      rewrite(await packagedPlugin({ name: 'wallet' }), (files) => files.map((file) => (file.path === 'plugin.wasm' ? { path: file.path, data: Buffer.concat([file.data, Buffer.from([0])]) } : file))),
    claimKnown: true,
    publisherKnown: false,
  },
  {
    kind: 'imports its permissions do not grant',
    code: 'FO_RUNTIME_IMPORT_DENIED',
    offered: () => packagedPlugin({ name: 'wallet', forwards: ['kv_get'] }),
    claimKnown: true,
    publisherKnown: true,
  },
  { kind: 'over the package size limit', code: 'FO_PACKAGE_TOO_LARGE', yaml: '  package_limits:\n    max_package_size: 1KB\n', offered: () => packagedPlugin({ name: 'wallet' }), claimKnown: false, publisherKnown: false },
  {
    kind: 'a second plugin of a loaded name',
    code: 'FO_REGISTRY_DUPLICATE',
    before: [() => packagedPlugin({ name: 'wallet', version: '0.9.0' })],
    offered: () => packagedPlugin({ name: 'wallet' }),
    claimKnown: true,
    publisherKnown: true,
  },
  {
    kind: 'beyond max_plugins',
    code: 'FO_REGISTRY_FULL',
    yaml: '  max_plugins: 1\n',
    before: [() => packagedPlugin({ name: 'first' })],
    offered: () => packagedPlugin({ name: 'wallet' }),
    claimKnown: true,
    publisherKnown: true,
  },
];

describe('refused package loads are audited', () => {
  for (const test of CASES) {
    it(`records a denial for a package ${test.kind} (${test.code})`, async () => {
      const bytes = await test.offered();
      const claim = test.claimKnown ? await readPackage(bytes) : undefined;
      const { registry, dir } = await testRegistry('inline', test.yaml ?? '', { attestation: test.attestation?.((await readPackage(bytes)).digest) });
      const source = join(dir, 'offered.forgepkg');
      await writeFile(source, bytes);
      const operator = new IdentityContext({ host: 'plugin-manager', user: 'alice' });
      let error: ForgeError;
      try {
        for (const earlier of test.before ?? []) await registry.loadPlugin(await earlier());
        error = await rejectsWithCode(registry.loadPlugin(source, { identity: operator }), test.code);
      } finally {
        await registry.close();
      }
      const denials = await loadDenials(dir);
      assert.equal(denials.length, 1, JSON.stringify(denials));
      const [record] = denials;
      assert.equal(record?.decision, 'deny');
      assert.equal(record?.principal, operator.principal);
      assert.equal(record?.resource, source);
      assert.equal(record?.reason, `${test.code}: ${error.message}`);
      assert.equal(record?.plugin, claim?.digest);
      assert.equal(record?.data?.['name'], claim?.manifest.name);
      assert.equal(record?.data?.['version'], claim?.manifest.version);
      assert.equal(record?.data?.['publisher'], test.publisherKnown ? PUBLISHERS.test : undefined);
    });
  }

  it('records a denial when loadInstalled meets an installed plugin revoked since its install, naming the installed package', async () => {
    const bytes = await packagedPlugin({ name: 'wallet' });
    const { digest } = await readPackage(bytes);
    const { registry, dir } = await testRegistry('inline', '', { attestation: { verifySignatures: true, trustStore: revokingTrustStore([digest]), now: NOW } });
    const store = await PluginStore.open({ directory: join(dir, 'plugins'), verification: { verifySignatures: true, trustStore, now: NOW } });
    const { plugin } = await store.install(bytes);
    const manager = new PluginManager(registry, store);
    try {
      await rejectsWithCode(manager.loadInstalled(), 'FO_REVOKED_PACKAGE');
    } finally {
      await manager.close();
    }
    const [record, ...others] = await loadDenials(dir);
    assert.deepEqual(others, []);
    assert.deepEqual([record?.resource, record?.plugin, record?.reason?.split(':')[0], record?.data?.['name']], [plugin.paths.package, digest, 'FO_REVOKED_PACKAGE', 'wallet']);
  });

  it('names a package given as bytes by its sha256, and records nothing for a load that succeeds', async () => {
    const { registry, dir } = await testRegistry();
    const bytes = await packagedPlugin({ name: 'loose', signer: null });
    try {
      await registry.loadPlugin(await packagedPlugin({ name: 'fine' }));
      await rejectsWithCode(registry.loadPlugin(bytes), 'FO_VERIFY_UNSIGNED');
    } finally {
      await registry.close();
    }
    const denials = await loadDenials(dir);
    assert.deepEqual(
      denials.map((record) => [record.resource, record.data?.['name']]),
      [[`package:sha256:${(await import('node:crypto')).createHash('sha256').update(bytes).digest('hex')}`, 'loose']],
    );
  });
});
