import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { forge, jsonError } from '../../../test-support/cli.js';

const WASM = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

async function plugin(description = 'hello'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'forge-cli-pack-'));
  await mkdir(join(dir, 'src'));
  await writeFile(join(dir, 'src', 'plugin.toml'), `[plugin]\nname = "hello"\nversion = "0.1.0"\ndescription = ${JSON.stringify(description)}\n`);
  await writeFile(join(dir, 'src', 'plugin.wasm'), WASM);
  return dir;
}

describe('forge pack and forge inspect', () => {
  it('packs to <name>-<version>.forgepkg, printing the path to stdout and a summary to stderr', async () => {
    const dir = await plugin();
    const run = await forge(['pack', 'src'], { cwd: dir });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, `${join(dir, 'hello-0.1.0.forgepkg')}\n`);
    assert.match(run.stderr, /^packed hello 0\.1\.0: 3 files, \d+ bytes, content digest sha256:[0-9a-f]{64}\n$/);
  });

  it('writes byte-identical packages on repeated runs', async () => {
    const dir = await plugin();
    await forge(['pack', 'src', '-o', 'a.forgepkg'], { cwd: dir });
    await forge(['pack', 'src', '--out', 'b.forgepkg'], { cwd: dir });
    assert.ok((await readFile(join(dir, 'a.forgepkg'))).equals(await readFile(join(dir, 'b.forgepkg'))));
  });

  it('inspects a package as JSON: manifest, every file with sha256, no signatures', async () => {
    const dir = await plugin();
    const packed = await forge(['pack', 'src', '--json'], { cwd: dir });
    const { file, digest } = JSON.parse(packed.stdout) as { file: string; digest: string };
    const run = await forge(['inspect', file, '--json'], { cwd: dir });
    assert.equal(run.status, 0, run.stderr);
    const out = JSON.parse(run.stdout) as { digest: string; manifest: { name: string; abi: string }; files: { path: string; sha256: string }[]; signatures: unknown[] };
    assert.equal(out.digest, digest);
    assert.equal(out.manifest.name, 'hello');
    assert.equal(out.manifest.abi, 'forge/1');
    assert.deepEqual(out.files.map((entry) => entry.path), ['manifest.json', 'plugin.toml', 'plugin.wasm']);
    assert.deepEqual(out.signatures, []);
  });

  it('escapes control sequences from the manifest in human output', async () => {
    const dir = await plugin('safe\u001b[2Jtext\u202e');
    const packed = await forge(['pack', 'src'], { cwd: dir });
    assert.equal(packed.status, 3, 'control characters are refused by the manifest schema');
    assert.match(packed.stderr, /FO_MANIFEST_INVALID/);
    assert.ok(!packed.stderr.includes('\u001b'));
  });

  it('exits 5 for a corrupt package and 6 for a missing one', async () => {
    const dir = await plugin();
    await forge(['pack', 'src', '-o', 'p.forgepkg'], { cwd: dir });
    const bytes = await readFile(join(dir, 'p.forgepkg'));
    await writeFile(join(dir, 'cut.forgepkg'), bytes.subarray(0, bytes.length - 4));
    const cut = await forge(['inspect', 'cut.forgepkg'], { cwd: dir });
    assert.equal(cut.status, 5, cut.stderr);
    assert.match(cut.stderr, /FO_PACKAGE_TRUNCATED/);
    const missing = await forge(['inspect', 'nope.forgepkg'], { cwd: dir });
    assert.equal(missing.status, 6);
    assert.match(missing.stderr, /FO_IO_NOT_FOUND/);
  });

  it('exits 3 with FO_PACKAGE_NOT_GZIP for a file that is not a package', async () => {
    const dir = await plugin();
    await writeFile(join(dir, 'x.forgepkg'), 'plain text');
    const run = await forge(['inspect', 'x.forgepkg', '--json'], { cwd: dir });
    assert.equal(run.status, 3);
    assert.equal(jsonError(run).code, 'FO_PACKAGE_NOT_GZIP');
  });
});
