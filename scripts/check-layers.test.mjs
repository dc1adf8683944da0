// Tests for scripts/check-layers.mjs on small generated repositories.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('./check-layers.mjs', import.meta.url));
const made = [];
after(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

const PACKAGES = {
  common: { name: '@forgeone/common', deps: {} },
  microkernel: { name: '@forgeone/microkernel', deps: { '@forgeone/common': '0.1.0' } },
  'plugin-manager': { name: '@forgeone/plugin-manager', deps: { '@forgeone/common': '0.1.0', '@forgeone/microkernel': '0.1.0' } },
  forge: { name: 'forgeone', deps: { '@forgeone/common': '0.1.0', '@forgeone/plugin-manager': '0.1.0' } },
};

/** A repository with the four packages and the given extra source files. */
function repo(files) {
  const root = mkdtempSync(join(tmpdir(), 'check-layers-'));
  made.push(root);
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'x', devDependencies: {} }));
  for (const [dir, { name, deps }] of Object.entries(PACKAGES)) {
    mkdirSync(join(root, 'packages', dir, 'src'), { recursive: true });
    writeFileSync(join(root, 'packages', dir, 'package.json'), JSON.stringify({ name, dependencies: deps }));
    writeFileSync(join(root, 'packages', dir, 'src', 'index.ts'), 'export {};\n');
  }
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

function check(root) {
  const result = spawnSync(process.execPath, [script, '--root', root], { encoding: 'utf8' });
  return { status: result.status, stderr: result.stderr };
}

describe('check-layers', () => {
  it('passes this repository', () => {
    const result = check(fileURLToPath(new URL('..', import.meta.url)));
    assert.equal(result.status, 0, result.stderr);
  });

  it('passes a tree whose imports all point down', () => {
    const result = check(
      repo({
        'packages/microkernel/src/a.ts': "import { x } from '@forgeone/common';\n",
        'packages/plugin-manager/src/runtime/r.ts': "import { m } from '../plugin/manifest.js';\nimport { n } from '../loader/read.js';\n",
        'packages/plugin-manager/src/registry/reg.ts': "import { r } from '../runtime/r.js';\nconst v = process.env.HOME;\n",
        'packages/forge/src/cli.ts': "import { r } from '@forgeone/plugin-manager';\nconst v = process.env.X;\n",
      }),
    );
    assert.equal(result.status, 0, result.stderr);
  });

  it('fails on an upward import between packages', () => {
    const result = check(repo({ 'packages/common/src/bad.ts': "import { k } from '@forgeone/microkernel';\n" }));
    assert.equal(result.status, 1);
    assert.match(result.stderr, /packages\/common\/src\/bad\.ts:1: upward import of @forgeone\/microkernel from common/);
  });

  it('fails on an upward import between plugin-manager folders', () => {
    const result = check(repo({ 'packages/plugin-manager/src/loader/l.ts': "\n\nexport { x } from '../registry/reg.js';\n" }));
    assert.equal(result.status, 1);
    assert.match(result.stderr, /loader\/l\.ts:3: upward import from loader\/ \(layer 0\) to registry\/ \(layer 3\)/);
  });

  it('fails on a cycle between folders of one layer', () => {
    const result = check(
      repo({
        'packages/plugin-manager/src/plugin/p.ts': "import { l } from '../loader/l.js';\n",
        'packages/plugin-manager/src/loader/l.ts': "import { p } from '../plugin/p.js';\n",
      }),
    );
    assert.equal(result.status, 1);
    assert.match(result.stderr, /import cycle between folders: (plugin-manager\/plugin -> plugin-manager\/loader -> plugin-manager\/plugin|plugin-manager\/loader -> plugin-manager\/plugin -> plugin-manager\/loader)/);
  });

  it('ranks the folders of microkernel too: the audit log may not import the bridge, and a new folder needs a layer', () => {
    const result = check(
      repo({
        'packages/microkernel/src/audit/log.ts': "import { b } from '../bridge/bridge.js';\n",
        'packages/microkernel/src/bridge/bridge.ts': "import { a } from '../audit/log.js';\nimport { t } from '../trust/t.js';\n",
        'packages/microkernel/src/trust/t.ts': 'export const t = 1;\n',
        'packages/microkernel/src/misc/m.ts': 'export const m = 1;\n',
      }),
    );
    assert.equal(result.status, 1);
    assert.match(result.stderr, /audit\/log\.ts:1: upward import from audit\/ \(layer 0\) to bridge\/ \(layer 2\)/);
    assert.match(result.stderr, /folder microkernel\/src\/misc has no layer/);
    assert.doesNotMatch(result.stderr, /bridge\.ts:\d+: upward import/, 'the bridge importing the audit log and trust points down');
  });

  it('fails on process.env outside composition roots, relative escapes and undeclared dependencies', () => {
    const result = check(
      repo({
        'packages/microkernel/src/env.ts': 'export const home = process.env.HOME;\n',
        'packages/microkernel/src/escape.ts': "import { x } from '../../common/src/index.js';\n",
        'packages/microkernel/src/dep.ts': "import yaml from 'yaml';\nimport fs from 'fs';\n",
        'packages/forge/src/k.ts': "import { k } from '@forgeone/microkernel';\n",
      }),
    );
    assert.equal(result.status, 1);
    assert.match(result.stderr, /env\.ts:1: reads process\.env/);
    assert.match(result.stderr, /escape\.ts:1: relative import \.\.\/\.\.\/common\/src\/index\.js leaves packages\/microkernel\/src/);
    assert.match(result.stderr, /dep\.ts:1: imports yaml, which packages\/microkernel\/package\.json does not list/);
    assert.match(result.stderr, /dep\.ts:2: import Node built-ins with the node: prefix \(fs\)/);
    assert.match(result.stderr, /forge\/src\/k\.ts:1: imports @forgeone\/microkernel but packages\/forge\/package\.json does not depend on it/);
  });

  it('fails on a plugin-manager folder that has no layer, and on node:crypto outside attestation/crypto.ts', () => {
    const result = check(
      repo({
        'packages/plugin-manager/src/misc/m.ts': 'export {};\n',
        'packages/plugin-manager/src/attestation/verify.ts': "import { createHash } from 'node:crypto';\n",
        'packages/plugin-manager/src/attestation/crypto.ts': "import { createHash } from 'node:crypto';\n",
      }),
    );
    assert.equal(result.status, 1);
    assert.match(result.stderr, /folder plugin-manager\/src\/misc has no layer/);
    assert.match(result.stderr, /attestation\/verify\.ts:1: only packages\/plugin-manager\/src\/attestation\/crypto\.ts may import node:crypto/);
    assert.doesNotMatch(result.stderr, /attestation\/crypto\.ts:1/);
  });

  it('ignores imports inside comments', () => {
    const result = check(repo({ 'packages/common/src/doc.ts': "/**\n * import { k } from '@forgeone/microkernel';\n */\n// import x from '@forgeone/forge';\nexport {};\n" }));
    assert.equal(result.status, 0, result.stderr);
  });
});
