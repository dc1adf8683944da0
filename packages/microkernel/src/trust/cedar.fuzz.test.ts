/**
 * Fuzz: Cedar policy loading. Arbitrary text and mutations of valid policies either load
 * or fail with FO_TRUST_POLICY_INVALID, never another exception (the engine is wasm: a
 * trap or a thrown JS error from it must not escape as anything but a ForgeError), and a
 * policy set that loads answers every call without throwing.
 * Seeded: see docs/fuzzing.md for FORGE_FUZZ_SEED / FORGE_FUZZ_RUNS.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ForgeError } from '@forgeone/common';
import { runFuzz } from '@forgeone/common/testing';
import fc from 'fast-check';
import { CallCatalog } from './calls.js';
import { CedarPolicies, type CedarMode } from './cedar.js';

const catalog = new CallCatalog();
const principal = { publisher: 'acme', name: 'x', version: '1.0.0', digest: `sha256:${'1'.repeat(64)}`, attested: true };

const VALID = [
  'forbid(principal, action == ForgeOne::Action::"forge.http_request", resource) when { resource.name == "api.example.com" };',
  'forbid(principal, action in ForgeOne::Action::"filesystem", resource) when { context.access == "write" };',
  'permit(principal, action == ForgeOne::Action::"forge.log", resource);',
  '@id("p1") forbid(principal == ForgeOne::Plugin::"acme/x", action, resource) unless { principal.attested };',
  'forbid(principal, action == ForgeOne::Action::"wasi_snapshot_preview1.path_open", resource) when { resource.path like "/secret/*" };',
];
const TOKENS = [';', '(', ')', '{', '}', '"', '\\', '::', '==', ' in ', ' like ', '*', 'when', 'unless', '@id("a")', 'principal', 'resource.', '\u0000', '\u{1F600}'];

function mutated(): fc.Arbitrary<string> {
  return fc.tuple(fc.subarray(VALID, { minLength: 1 }), fc.array(fc.record({ at: fc.nat(400), remove: fc.nat(3), insert: fc.oneof(fc.constantFrom(...TOKENS), fc.string({ maxLength: 3 })) }), { maxLength: 4 })).map(
    ([policies, edits]) =>
      edits.reduce((text, { at, remove, insert }) => text.slice(0, Math.min(at, text.length)) + insert + text.slice(Math.min(at, text.length) + remove), policies.join('\n')),
  );
}

function loadOrRefuse(text: string, mode: CedarMode): void {
  let policies: CedarPolicies;
  try {
    policies = CedarPolicies.load(text, catalog, mode);
  } catch (error) {
    if (!(error instanceof ForgeError)) throw new Error(`threw ${String(error)} (not a ForgeError)`, { cause: error });
    assert.equal(error.code, 'FO_TRUST_POLICY_INVALID', error.message);
    return;
  }
  for (const name of ['forge.log', 'forge.http_request', 'wasi_snapshot_preview1.path_open']) {
    const spec = catalog.get(name);
    assert.ok(spec !== undefined);
    const answer = policies.authorize(principal, spec, '/secret/a', 'write');
    assert.equal(typeof answer.allowed, 'boolean');
  }
}

describe('cedar fuzz: CedarPolicies.load loads or refuses with FO_TRUST_POLICY_INVALID', () => {
  it('arbitrary text', async () => {
    await runFuzz(
      'cedar.fuzz',
      40,
      (settings) => fc.check(fc.property(fc.string({ unit: 'binary', maxLength: 120 }), fc.constantFrom<CedarMode>('forbid-only', 'require-permit'), loadOrRefuse), settings),
      (details) => fc.defaultReportMessage(details),
    );
  });

  it('mutations of valid policies', async () => {
    await runFuzz('cedar.fuzz', 60, (settings) => fc.check(fc.property(mutated(), fc.constantFrom<CedarMode>('forbid-only', 'require-permit'), loadOrRefuse), settings), (details) => fc.defaultReportMessage(details));
  });
});
