/**
 * Fuzz: manifest parsing (plugin.toml and manifest.json). Arbitrary and mutated text
 * either parses or fails with FO_MANIFEST_SYNTAX / FO_MANIFEST_INVALID, never another
 * exception; generated valid manifests survive plugin.toml -> manifest -> canonical
 * manifest.json -> manifest unchanged, and the canonical text is a fixed point.
 * Seeded: see docs/fuzzing.md for FORGE_FUZZ_SEED / FORGE_FUZZ_RUNS.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ForgeError } from '@forgeone/common';
import { runFuzz } from '@forgeone/common/testing';
import fc from 'fast-check';
import { stringify as toToml } from 'smol-toml';
import { ENTRY_POINT_NAMES } from './entry-points.js';
import { isCanonicalManifest, parseManifestJson, parsePluginToml, serializeManifest } from './manifest.js';
import type { Manifest } from './manifest-schema.js';

const ALLOWED = new Set(['FO_MANIFEST_SYNTAX', 'FO_MANIFEST_INVALID']);

function parseOrRefuse(parse: (text: string) => Manifest, text: string): Manifest | undefined {
  try {
    return parse(text);
  } catch (error) {
    if (!(error instanceof ForgeError)) throw new Error(`threw ${String(error)} (not a ForgeError)`, { cause: error });
    assert.ok(ALLOWED.has(error.code), `unexpected code ${error.code}: ${error.message}`);
    return undefined;
  }
}

/** Whatever parses is valid: serialising it and parsing again gives the same manifest. */
function checkAccepted(manifest: Manifest | undefined): void {
  if (manifest === undefined) return;
  const canonical = serializeManifest(manifest);
  const again = parseManifestJson(canonical);
  assert.deepEqual(again, manifest);
  assert.ok(isCanonicalManifest(canonical, again));
}

const lower = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789');
const name = fc
  .tuple(lower, fc.string({ unit: fc.constantFrom(...'abcxyz019._-'), maxLength: 20 }), lower)
  .map(([first, middle, last]) => `${first}${middle}${last}`);
const ident = fc.tuple(fc.constantFrom(...'abcXYZ_'), fc.string({ unit: fc.constantFrom(...'abcXYZ_019'), maxLength: 12 })).map(([a, b]) => a + b);
const semverText = fc.tuple(fc.nat(99), fc.nat(99), fc.nat(99), fc.option(fc.constantFrom('alpha.1', 'rc.2', 'beta'), { nil: undefined })).map(([a, b, c, pre]) => `${a}.${b}.${c}${pre === undefined ? '' : `-${pre}`}`);
const range = fc.constantFrom('^1.0.0', '~2.3.4', '>=1.2.3 <2.0.0', '*', '1.x', '=0.1.0');
const hostName = fc.constantFrom('api.example.com', '*.example.org', 'localhost:8080', '[::1]:443', 'a-b.c');
const call = fc.constantFrom('forge.log', 'forge.*', 'forge.kv_get', 'wasi_snapshot_preview1.fd_write', 'wasi_snapshot_preview1.path_open');
const text = fc.string({ maxLength: 40 }).filter((value) => !/[\u0000-\u0008\u000b-\u001f\u007f]/u.test(value));

/** plugin.toml documents that must parse: every table, random contents within the rules. */
const validToml = fc
  .record({
    plugin: fc.record(
      { name, version: semverText, description: text, author: text, license: fc.constantFrom('MIT', 'Apache-2.0 OR MIT'), entry: fc.constantFrom('plugin.wasm', 'a_b-1.wasm') },
      { requiredKeys: ['name', 'version'] },
    ),
    dependencies: fc.dictionary(name, range, { maxKeys: 4 }),
    permissions: fc.record(
      {
        filesystem: fc.constantFrom<string[]>(['read'], ['read', 'write']),
        network: fc.constantFrom<string[]>([], ['connect']),
        allowed_hosts: fc.uniqueArray(hostName, { maxLength: 3 }),
        syscalls: fc.uniqueArray(call, { maxLength: 3 }),
        volumes: fc.array(fc.record({ name, path: fc.constantFrom('/data', '/a/b/', '/x.y_z'), mode: fc.constantFrom('ro', 'rw') }), { maxLength: 3 }),
        threads: fc.boolean(),
      },
      { requiredKeys: [] },
    ),
    entry_points: fc.record(Object.fromEntries(ENTRY_POINT_NAMES.map((point) => [point, ident])), { requiredKeys: [] }),
    extensions: fc.array(fc.record({ point: name, export: ident }), { maxLength: 3 }),
    limits: fc.record(
      {
        memory: fc.constantFrom('64KiB', '16MiB', '1GiB', '4GiB'),
        fuel: fc.integer({ min: 1, max: 2 ** 40 }),
        timeout: fc.constantFrom('1ms', '30s', '5m', '1d'),
        file_descriptors: fc.integer({ min: 4, max: 65_536 }),
      },
      { requiredKeys: [] },
    ),
  })
  .map((doc) => {
    // A volume in rw mode needs "write"; otherwise the document is invalid by rule, not by chance.
    const permissions: { filesystem?: string[]; volumes?: { mode: string }[] } = doc.permissions;
    if (permissions.volumes?.some((volume) => volume.mode === 'rw') === true) permissions.filesystem = ['read', 'write'];
    if ((permissions.volumes?.length ?? 0) > 0 && permissions.filesystem === undefined) permissions.filesystem = ['read'];
    return doc;
  });

const TOKENS = ['\n', '=', ' ', '[', ']', '[[', '"', "'", '"""', '#', '{', '}', ',', '.', 'inf', 'nan', '0x', '1979-05-27', '\\u', '\\'];
function mutated(base: string): fc.Arbitrary<string> {
  const edit = fc.record({ at: fc.nat({ max: base.length }), remove: fc.nat({ max: 4 }), insert: fc.oneof(fc.constantFrom(...TOKENS), fc.string({ maxLength: 4 })) });
  return fc.array(edit, { minLength: 1, maxLength: 6 }).map((edits) =>
    edits.reduce((current, { at, remove, insert }) => current.slice(0, Math.min(at, current.length)) + insert + current.slice(Math.min(at, current.length) + remove), base),
  );
}

describe('manifest fuzz', () => {
  it('generated valid plugin.toml documents parse and round-trip through canonical manifest.json', async () => {
    await runFuzz(
      'manifest.fuzz',
      300,
      (settings) =>
        fc.check(
          fc.property(validToml, (doc) => {
            const manifest = parsePluginToml(toToml(doc));
            assert.equal(manifest.name, doc.plugin.name);
            checkAccepted(manifest);
          }),
          settings,
        ),
      (details) => fc.defaultReportMessage(details),
    );
  });

  it('mutated plugin.toml parses or is refused with a manifest code', async () => {
    await runFuzz(
      'manifest.fuzz',
      400,
      (settings) => fc.check(fc.property(validToml.chain((doc) => mutated(toToml(doc))), (tomlText) => checkAccepted(parseOrRefuse(parsePluginToml, tomlText))), settings),
      (details) => fc.defaultReportMessage(details),
    );
  });

  it('arbitrary text and arbitrary JSON as manifest.json parse or are refused with a manifest code', async () => {
    const input = fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.json({ maxDepth: 4 }), validToml.map((doc) => JSON.stringify({ ...doc.plugin, ...doc, plugin: undefined })));
    await runFuzz('manifest.fuzz', 300, (settings) => fc.check(fc.property(input, (json) => checkAccepted(parseOrRefuse(parseManifestJson, json))), settings), (details) => fc.defaultReportMessage(details));
  });
});
