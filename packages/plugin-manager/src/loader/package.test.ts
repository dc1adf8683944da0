import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, symlink, utimes, writeFile, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ForgeError, type ErrorCode } from '@forgeone/common';
import { codeOf } from '@forgeone/common/testing';
import { serializeManifest, parsePluginToml } from '../plugin/index.js';
import { writeArchive, type ArchiveFile } from './archive/index.js';
import { DEFAULT_PACKAGE_LIMITS, contentDigest, packDirectory, readPackage, unpackPackage } from './index.js';

const WASM = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
const TOML = `[plugin]
name = "demo"
version = "1.2.3"
description = "demo plugin"

[entry_points]
init = "plugin_init"
`;

async function pluginDir(extra: Record<string, string | Buffer> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'forge-pack-'));
  const files: Record<string, string | Buffer> = {
    'plugin.toml': TOML,
    'plugin.wasm': WASM,
    'assets/a.txt': 'hello',
    'assets/sub/b.bin': Buffer.from([1, 2, 3]),
    'README.md': 'not packed',
    ...extra,
  };
  for (const [path, data] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), data);
  }
  return dir;
}

function manifestFile(toml = TOML): ArchiveFile {
  return { path: 'manifest.json', data: Buffer.from(serializeManifest(parsePluginToml(toml))) };
}

describe('forge pack', () => {
  it('packs plugin.toml, the module and assets/, and nothing else', async () => {
    const { contents } = await packDirectory(await pluginDir());
    assert.deepEqual(
      contents.files.map((file) => file.path),
      ['assets/a.txt', 'assets/sub/b.bin', 'manifest.json', 'plugin.toml', 'plugin.wasm'],
    );
    assert.equal(contents.manifest.name, 'demo');
    assert.equal(contents.files.find((file) => file.path === 'assets/a.txt')?.sha256, createHash('sha256').update('hello').digest('hex'));
    assert.equal(contents.read('plugin.wasm')?.equals(WASM), true);
  });

  it('is deterministic: the same inputs give byte-identical packages whatever the mtimes', async () => {
    const dir = await pluginDir();
    const first = await packDirectory(dir);
    const copy = await mkdtemp(join(tmpdir(), 'forge-pack-copy-'));
    await cp(dir, copy, { recursive: true });
    await utimes(join(copy, 'plugin.wasm'), new Date(2001, 1, 1), new Date(2001, 1, 1));
    const second = await packDirectory(copy);
    assert.ok(first.bytes.equals(second.bytes));
    assert.equal(first.fileDigest, second.fileDigest);
  });

  it('refuses a directory without plugin.toml or without its module', async () => {
    const noToml = await mkdtemp(join(tmpdir(), 'forge-pack-'));
    await assert.rejects(packDirectory(noToml), (error: unknown) => ForgeError.is(error, 'FO_PACK_SOURCE_MISSING'));
    const dir = await mkdtemp(join(tmpdir(), 'forge-pack-'));
    await writeFile(join(dir, 'plugin.toml'), TOML);
    await assert.rejects(packDirectory(dir), (error: unknown) => ForgeError.is(error, 'FO_PACK_SOURCE_MISSING') && /plugin\.wasm/.test(error.message));
  });

  it('refuses symbolic links in assets/ and a module that is not wasm', async () => {
    const dir = await pluginDir();
    await symlink('/etc/passwd', join(dir, 'assets', 'passwd'));
    await assert.rejects(packDirectory(dir), (error: unknown) => ForgeError.is(error, 'FO_PACK_SOURCE_INVALID') && /not a regular file/.test(error.message));
    const notWasm = await pluginDir({ 'plugin.wasm': '#!/bin/sh\n' });
    await assert.rejects(packDirectory(notWasm), (error: unknown) => ForgeError.is(error, 'FO_PACK_SOURCE_INVALID') && /not a WebAssembly/.test(error.message));
  });

  it('honours manifest.entry when it names another module', async () => {
    const dir = await pluginDir({ 'plugin.toml': TOML.replace('description', 'entry = "main.wasm"\ndescription'), 'main.wasm': WASM });
    const { contents } = await packDirectory(dir);
    assert.ok(contents.files.some((file) => file.path === 'main.wasm'));
    assert.ok(!contents.files.some((file) => file.path === 'plugin.wasm'));
  });
});

describe('reading packages', () => {
  it('keeps the content digest when a signature is added, and changes it when content changes', async () => {
    const base = [manifestFile(), { path: 'plugin.wasm', data: WASM }];
    const plain = await readPackage(writeArchive(base));
    const signed = await readPackage(writeArchive([...base, { path: 'attestations/k1.sigstore.json', data: Buffer.from('{"mediaType":"x"}') }]));
    assert.equal(signed.digest, plain.digest);
    assert.deepEqual(signed.attestations.map((file) => file.path), ['attestations/k1.sigstore.json']);
    const changed = await readPackage(writeArchive([manifestFile(), { path: 'plugin.wasm', data: Buffer.concat([WASM, Buffer.from([0])]) }]));
    assert.notEqual(changed.digest, plain.digest);
    assert.equal(plain.digest, contentDigest(plain.files));
  });

  const layoutCases: [string, ArchiveFile[], ErrorCode][] = [
    ['a file outside the layout', [manifestFile(), { path: 'plugin.wasm', data: WASM }, { path: 'run.sh', data: Buffer.from('x') }], 'FO_PACKAGE_UNEXPECTED_ENTRY'],
    ['an attestation in a subdirectory', [manifestFile(), { path: 'plugin.wasm', data: WASM }, { path: 'attestations/a/b.sigstore.json', data: Buffer.from('{}') }], 'FO_PACKAGE_UNEXPECTED_ENTRY'],
    ['a second root module', [manifestFile(), { path: 'plugin.wasm', data: WASM }, { path: 'other.wasm', data: WASM }], 'FO_PACKAGE_UNEXPECTED_ENTRY'],
    ['no manifest.json', [{ path: 'plugin.wasm', data: WASM }], 'FO_PACKAGE_MISSING_MANIFEST'],
    ['no entry module', [manifestFile()], 'FO_PACKAGE_MISSING_MODULE'],
    ['a manifest.json that is not JSON', [{ path: 'manifest.json', data: Buffer.from('{') }, { path: 'plugin.wasm', data: WASM }], 'FO_MANIFEST_SYNTAX'],
    ['an invalid manifest.json', [{ path: 'manifest.json', data: Buffer.from('{"name":"x"}') }, { path: 'plugin.wasm', data: WASM }], 'FO_MANIFEST_INVALID'],
    [
      'a pretty-printed manifest.json',
      [{ path: 'manifest.json', data: Buffer.from(JSON.stringify(JSON.parse(serializeManifest(parsePluginToml(TOML))), null, 2)) }, { path: 'plugin.wasm', data: WASM }],
      'FO_PACKAGE_MANIFEST_NOT_CANONICAL',
    ],
    [
      'a plugin.toml that disagrees with manifest.json',
      [manifestFile(), { path: 'plugin.toml', data: Buffer.from(TOML.replace('1.2.3', '1.2.4')) }, { path: 'plugin.wasm', data: WASM }],
      'FO_PACKAGE_MANIFEST_MISMATCH',
    ],
  ];
  for (const [what, files, code] of layoutCases) {
    it(`refuses ${what} with ${code}`, async () => {
      assert.equal(await codeOf(readPackage(writeArchive(files))), code);
    });
  }

  it('names the disagreeing fields when plugin.toml and manifest.json differ', async () => {
    const bytes = writeArchive([manifestFile(), { path: 'plugin.toml', data: Buffer.from(TOML.replace('1.2.3', '1.2.4')) }, { path: 'plugin.wasm', data: WASM }]);
    await assert.rejects(readPackage(bytes), (error: unknown) => {
      assert.ok(ForgeError.is(error, 'FO_PACKAGE_MANIFEST_MISMATCH'), String(error));
      assert.deepEqual(error.details['differences'], [{ path: 'version', left: '"1.2.4"', right: '"1.2.3"' }]);
      return true;
    });
  });

  it('refuses a manifest over max_manifest_size before reading it', async () => {
    const bytes = writeArchive([manifestFile(), { path: 'plugin.wasm', data: WASM }]);
    assert.equal(await codeOf(readPackage(bytes, { ...DEFAULT_PACKAGE_LIMITS, maxManifestSize: 16 })), 'FO_MANIFEST_TOO_LARGE');
  });
});

describe('unpacking packages', () => {
  it('writes every file into a new directory under the temp root', async () => {
    const root = await mkdtemp(join(tmpdir(), 'forge-unpack-'));
    const { bytes } = await packDirectory(await pluginDir());
    const unpacked = await unpackPackage(bytes, join(root, 'tmp'));
    assert.ok(unpacked.dir.startsWith(join(root, 'tmp')));
    assert.deepEqual((await readdir(unpacked.dir)).sort(), ['assets', 'manifest.json', 'plugin.toml', 'plugin.wasm']);
    await unpacked.dispose();
    assert.deepEqual(await readdir(join(root, 'tmp')), []);
  });

  it('removes its directory when a check fails after the last entry', async () => {
    const root = await mkdtemp(join(tmpdir(), 'forge-unpack-'));
    const bytes = writeArchive([manifestFile(), { path: 'plugin.toml', data: Buffer.from(TOML.replace('demo', 'other')) }, { path: 'plugin.wasm', data: WASM }]);
    await assert.rejects(unpackPackage(bytes, join(root, 'tmp')), (error: unknown) => ForgeError.is(error, 'FO_PACKAGE_MANIFEST_MISMATCH'));
    assert.deepEqual(await readdir(root), ['tmp']);
    assert.deepEqual(await readdir(join(root, 'tmp')), []);
  });
});
