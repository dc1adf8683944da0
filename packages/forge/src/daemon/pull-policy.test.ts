/**
 * Hostile test: references an API client sends to aim the daemon at its own network are
 * refused (FO_DAEMON_REGISTRY_NOT_ALLOWED), in every spelling fetch would accept, unless
 * the operator listed the registry; a marketplace index names public registries only.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { codeOf, codeOfSync } from '@forgeone/common/testing';
import { parseReference } from '@forgeone/plugin-manager';
import { emptyIndex, type MarketplaceIndex } from '@forgeone/plugin-manager/marketplace';
import { checkPullAllowed, checkResolvesPublic, isNonPublicRegistry } from './pull-policy.js';

function indexNaming(...references: string[]): MarketplaceIndex {
  const permissions = { filesystem: [], network: false, allowed_hosts: [], syscalls: [], volumes: [] };
  return {
    ...emptyIndex(),
    plugins: references.map((oci, position) => ({
      name: `p${position}`,
      publisher: 'ACME Plugins',
      keywords: [],
      versions: [{ version: '1.0.0', digest: `sha256:${'a'.repeat(64)}`, oci, permissions, published: '2026-12-01T00:00:00Z' }],
    })),
  } as unknown as MarketplaceIndex;
}

const refusal = (reference: string, allowed: readonly string[], index?: MarketplaceIndex): string => codeOfSync(() => checkPullAllowed(parseReference(reference), allowed, index));

describe('the registries the daemon pulls from', () => {
  it('refuses loopback, private, link-local and metadata addresses in every spelling when nothing lists them', () => {
    for (const reference of [
      '127.0.0.1:5000/forge/hello:1.0.0',
      'localhost:5000/forge/hello:1.0.0',
      '169.254.169.254/latest/meta-data:1',
      '10.1.2.3:443/x:1',
      '192.168.1.1/x:1',
      '[::1]:5000/x:1',
      '[::ffff:127.0.0.1]:5000/x:1',
      '[fe80::1]:5000/x:1',
      '2130706433:5000/x:1',
      'registry.example.org/x:1',
    ]) {
      assert.equal(refusal(reference, []), 'FO_DAEMON_REGISTRY_NOT_ALLOWED', reference);
    }
  });

  it('pulls from a registry in daemon.pull_registries, loopback included, and only that host:port', () => {
    checkPullAllowed(parseReference('127.0.0.1:5000/forge/hello:1.0.0'), ['127.0.0.1:5000'], undefined);
    assert.equal(refusal('127.0.0.1:5001/forge/hello:1.0.0', ['127.0.0.1:5000']), 'FO_DAEMON_REGISTRY_NOT_ALLOWED');
  });

  it('pulls from a public registry the verified index names, never from a non-public one it names', () => {
    const index = indexNaming('registry.example.org/acme/hello:1.0.0', '127.0.0.1:5000/acme/evil:1.0.0', '169.254.169.254/latest:1', 'intranet:5000/x:1');
    checkPullAllowed(parseReference('registry.example.org/acme/other:2.0.0'), [], index);
    for (const reference of ['127.0.0.1:5000/acme/evil:1.0.0', '169.254.169.254/latest:1', 'intranet:5000/x:1', 'elsewhere.example.org/acme/hello:1.0.0']) {
      assert.equal(refusal(reference, [], index), 'FO_DAEMON_REGISTRY_NOT_ALLOWED', reference);
    }
  });

  it('reads numeric and mapped spellings of addresses as fetch does', () => {
    assert.deepEqual(
      ['0x7f.1:80', '2130706433', '[::ffff:a9fe:a9fe]', '100.64.0.1', 'a.localhost', 'registry.example.org', '93.184.216.34:443', '[2606:4700::1]'].map(isNonPublicRegistry),
      [true, true, true, true, true, false, false, false],
    );
  });

  it('refuses a public-looking name that resolves to an inner address (any of its addresses), unless the operator listed it', async () => {
    const answers: Record<string, readonly string[]> = {
      'registry.example.org': ['93.184.216.34'],
      'rebound.example.org': ['93.184.216.34', '10.0.0.7'],
      'metadata.example.org': ['::ffff:169.254.169.254'],
      'registry-1.docker.io': ['44.205.64.79'],
    };
    const resolve = (host: string): Promise<readonly string[]> => (host in answers ? Promise.resolve(answers[host] ?? []) : Promise.reject(new Error(`ENOTFOUND ${host}`)));
    const check = (reference: string, allowed: readonly string[] = []) => codeOf(checkResolvesPublic(parseReference(reference), allowed, resolve));
    assert.equal(await check('registry.example.org/acme/hello:1.0.0'), 'ok');
    assert.equal(await check('docker.io/acme/hello:1.0.0'), 'ok', 'docker.io is checked where the client connects');
    assert.equal(await check('rebound.example.org/acme/hello:1.0.0'), 'FO_DAEMON_REGISTRY_NOT_ALLOWED');
    assert.equal(await check('metadata.example.org/latest:1'), 'FO_DAEMON_REGISTRY_NOT_ALLOWED');
    assert.equal(await check('rebound.example.org/acme/hello:1.0.0', ['rebound.example.org']), 'ok', 'listed by the operator');
    assert.equal(await check('nowhere.example.org/acme/hello:1.0.0'), 'FO_OCI_UNREACHABLE');
    assert.equal(await check('127.0.0.1:5000/acme/hello:1.0.0'), 'ok', 'an address is judged as written, by checkPullAllowed');
  });
});
