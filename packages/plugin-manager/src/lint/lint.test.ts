/**
 * forge lint's checks: clean plugins pass; each hostile plugin gives its exact code,
 * with what was expected and what was found; several problems are all listed.
 */
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot, rewrite } from '../attestation/test-support/pki.js';
import { DEFAULT_PACKAGE_LIMITS, packDirectory } from '../loader/index.js';
import { lintPlugin, type LintOptions, type LintResult } from './index.js';
import { NOW, lintToml, lintTrustStore, packedPlugin, pluginDir, writePackage } from './test-support/fixtures.js';

const errors = (result: LintResult): string[] => result.problems.filter((p) => p.severity === 'error').map((p) => p.code);
const trusted: LintOptions = { trustStore: lintTrustStore, now: NOW };

describe('lint: clean plugins pass', () => {
  for (const example of ['sample-plugin', 'c-plugin']) {
    it(`passes examples/${example} as a directory and packed`, async () => {
      const dir = join(repoRoot(), 'examples', example);
      const fromDir = await lintPlugin(dir);
      assert.deepEqual(errors(fromDir), [], JSON.stringify(fromDir.problems));
      assert.equal(fromDir.ok, true);
      const packed = await lintPlugin(await writePackage((await packDirectory(dir)).bytes));
      assert.equal(packed.kind, 'package');
      assert.deepEqual(errors(packed), [], JSON.stringify(packed.problems));
      // Unsigned is a warning, not an error, unless a signature is required.
      assert.ok(packed.problems.some((p) => p.code === 'FO_LINT_UNSIGNED' && p.severity === 'warning'));
      const required = await lintPlugin(await writePackage((await packDirectory(dir)).bytes), { requireSignature: true });
      assert.deepEqual(errors(required), ['FO_LINT_UNSIGNED']);
    });
  }

  it('passes a signed package verified against its trust store, with no problem at all', async () => {
    const result = await lintPlugin(await packedPlugin(await pluginDir(lintToml()), true), { ...trusted, requireSignature: true });
    assert.deepEqual(result.problems, []);
    assert.equal(result.ok, true);
  });
});

describe('lint: hostile plugins', () => {
  it('reports a forge_alloc of the wrong shape (FO_LINT_EXPORT_SHAPE), saying what it expected and found', async () => {
    const result = await lintPlugin(await pluginDir(lintToml(), { alloc: '(func (export "forge_alloc") (param i64) (result i32) (i32.const 8))' }));
    assert.deepEqual(errors(result), ['FO_LINT_EXPORT_SHAPE']);
    assert.match(result.problems[0]?.message ?? '', /expected forge_alloc to be a function \(i32\) -> \(i32\), found \(i64\) -> \(i32\)/);
    assert.equal(result.problems[0]?.where, 'plugin.wasm: export forge_alloc');
  });

  it('reports missing forge/1 exports (FO_LINT_EXPORT_MISSING) and a memory that is not exported', async () => {
    const result = await lintPlugin(await pluginDir(lintToml(), { memory: '(memory 1)', free: '' }));
    assert.deepEqual(errors(result), ['FO_LINT_EXPORT_MISSING', 'FO_LINT_EXPORT_MISSING']);
    assert.deepEqual(result.problems.map((p) => p.where), ['plugin.wasm: export memory', 'plugin.wasm: export forge_free']);
  });

  it('reports an entry point the module does not export (FO_LINT_ENTRY_POINT_MISSING) and one of the wrong type', async () => {
    const result = await lintPlugin(await pluginDir(lintToml().replace('init = "on_init"', 'init = "on_init"\nstart = "begin"\nstop = "echo"')));
    assert.deepEqual(errors(result), ['FO_LINT_ENTRY_POINT_MISSING', 'FO_LINT_ENTRY_POINT_SHAPE']);
  });

  it('reports a host call imported without the permission it needs (FO_LINT_IMPORT_NOT_PERMITTED)', async () => {
    const imports = '(import "forge" "kv_get" (func (param i32 i32) (result i64))) (import "wasi_snapshot_preview1" "path_open" (func (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))';
    const result = await lintPlugin(await pluginDir(lintToml(), { imports }));
    assert.deepEqual(errors(result), ['FO_LINT_IMPORT_NOT_PERMITTED', 'FO_LINT_IMPORT_NOT_PERMITTED']);
    assert.match(result.problems[0]?.message ?? '', /syscalls = \["forge.kv_get"\]/);
    assert.match(result.problems[1]?.message ?? '', /filesystem = \["read"\]/);
    // Granting them clears both.
    const granted = await lintPlugin(await pluginDir(lintToml('[permissions]\nsyscalls = ["forge.kv_get"]\nfilesystem = ["read"]'), { imports }));
    assert.deepEqual(errors(granted), []);
  });

  it('reports imports no host provides (FO_LINT_IMPORT_UNKNOWN): another module, an unknown forge call, an imported global', async () => {
    const imports = '(import "env" "abort" (func (param i32))) (import "forge" "steal_keys" (func (param i32 i32) (result i64))) (import "env" "g" (global i32))';
    const result = await lintPlugin(await pluginDir(lintToml(), { imports }));
    assert.deepEqual(errors(result), ['FO_LINT_IMPORT_UNKNOWN', 'FO_LINT_IMPORT_UNKNOWN', 'FO_LINT_IMPORT_UNKNOWN']);
  });

  it('reports a forge.* import of the wrong type (FO_LINT_IMPORT_SHAPE)', async () => {
    const result = await lintPlugin(await pluginDir(lintToml(), { imports: '(import "forge" "log" (func (param i32) (result i32)))' }));
    assert.deepEqual(errors(result), ['FO_LINT_IMPORT_SHAPE']);
  });

  it('reports a module and package over the loader limits (FO_LINT_TOO_LARGE)', async () => {
    const dir = await pluginDir(lintToml());
    const size = (await readFile(join(dir, 'plugin.wasm'))).length;
    const module = await lintPlugin(dir, { moduleLimits: { maxModuleBytes: size - 1 } });
    assert.deepEqual(errors(module), ['FO_LINT_TOO_LARGE']);
    assert.equal(module.problems[0]?.details?.['cause'], 'FO_RUNTIME_MODULE_TOO_LARGE');
    const file = await lintPlugin(dir, { packageLimits: { ...DEFAULT_PACKAGE_LIMITS, maxFileSize: size - 1 } });
    assert.deepEqual(errors(file), ['FO_LINT_TOO_LARGE']);
    const pkg = await packedPlugin(dir, false);
    const packed = await lintPlugin(pkg, { packageLimits: { ...DEFAULT_PACKAGE_LIMITS, maxPackageSize: 100 } });
    assert.deepEqual(errors(packed), ['FO_LINT_TOO_LARGE']);
  });

  it('reports an initial memory larger than limits.memory (FO_LINT_MEMORY_OVER_LIMIT)', async () => {
    const result = await lintPlugin(await pluginDir(lintToml('[limits]\nmemory = "1MB"'), { memory: '(memory (export "memory") 17)' }));
    assert.deepEqual(errors(result), ['FO_LINT_MEMORY_OVER_LIMIT']);
    assert.equal(result.problems[0]?.details?.['cause'], 'FO_RUNTIME_MEMORY_LIMIT');
    // The operator's cap counts too.
    const capped = await lintPlugin(await pluginDir(lintToml(), { memory: '(memory (export "memory") 17)' }), { sandboxMemoryLimit: 1024 * 1024 });
    assert.deepEqual(errors(capped), ['FO_LINT_MEMORY_OVER_LIMIT']);
  });

  it('reports a tampered signed package (FO_LINT_SIGNATURE_INVALID, cause FO_VERIFY_DIGEST_MISMATCH)', async () => {
    const signed = await readFile(await packedPlugin(await pluginDir(lintToml()), true));
    const tampered = await rewrite(signed, (files) => files.map((f) => (f.path === 'plugin.wasm' ? { path: f.path, data: Buffer.concat([f.data, Buffer.from([0, 1, 0])]) } : f)));
    const result = await lintPlugin(await writePackage(tampered), trusted);
    assert.deepEqual(errors(result), ['FO_LINT_SIGNATURE_INVALID']);
    assert.equal(result.problems[0]?.details?.['cause'], 'FO_VERIFY_DIGEST_MISMATCH');
  });

  it('reports a signed package it cannot verify for want of a trust store (FO_LINT_NO_TRUST_STORE)', async () => {
    const result = await lintPlugin(await packedPlugin(await pluginDir(lintToml()), true));
    assert.deepEqual(errors(result), ['FO_LINT_NO_TRUST_STORE']);
  });

  it('reports each field where manifest.json and plugin.toml disagree (FO_LINT_MANIFEST_MISMATCH)', async () => {
    const pkg = await readFile(await packedPlugin(await pluginDir(lintToml()), false));
    const edited = await rewrite(pkg, (files) =>
      files.map((f) => (f.path === 'plugin.toml' ? { path: f.path, data: Buffer.from(lintToml('[permissions]\nnetwork = ["connect"]').replace('1.0.0', '2.0.0')) } : f)),
    );
    const result = await lintPlugin(await writePackage(edited));
    assert.deepEqual(errors(result), ['FO_LINT_MANIFEST_MISMATCH', 'FO_LINT_MANIFEST_MISMATCH']);
    assert.deepEqual(result.problems.filter((p) => p.severity === 'error').map((p) => p.details?.['path']).sort(), ['permissions.network', 'version']);
  });

  it('reports a plugin.toml that does not validate (FO_LINT_MANIFEST_INVALID) and a directory without one (FO_LINT_MANIFEST_MISSING)', async () => {
    const invalid = await lintPlugin(await pluginDir('[plugin]\nname = "Bad Name!"\nversion = "one"\n'));
    assert.deepEqual(errors(invalid), ['FO_LINT_MANIFEST_INVALID']);
    assert.equal(invalid.problems[0]?.details?.['cause'], 'FO_MANIFEST_INVALID');
    const dir = await pluginDir(lintToml());
    await rm(join(dir, 'plugin.toml'));
    const missing = await lintPlugin(dir);
    assert.deepEqual(errors(missing), ['FO_LINT_MANIFEST_MISSING']);
  });

  it('lists every problem at once, never stopping at the first', async () => {
    const imports = '(import "forge" "kv_set" (func (param i32 i32) (result i64))) (import "env" "x" (func))';
    const dir = await pluginDir(lintToml('[limits]\nmemory = "1MB"').replace('init = "on_init"', 'init = "on_init"\nstop = "gone"'), {
      imports,
      free: '',
      memory: '(memory (export "memory") 17)',
    });
    const result = await lintPlugin(dir, { moduleLimits: {} });
    assert.deepEqual(errors(result), ['FO_LINT_EXPORT_MISSING', 'FO_LINT_ENTRY_POINT_MISSING', 'FO_LINT_IMPORT_NOT_PERMITTED', 'FO_LINT_IMPORT_UNKNOWN', 'FO_LINT_MEMORY_OVER_LIMIT']);
    assert.equal(result.ok, false);
  });
});
