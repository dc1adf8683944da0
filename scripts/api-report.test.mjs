// Tests for scripts/api-report.mjs (the public API report, docs/reference/api.md) on
// small generated workspaces, and for the closed exports maps of the real packages.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readApi, renderApiReport } from './api-report.mjs';

const made = [];
after(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

const EXPORTS = {
  '.': { types: './dist/index.d.ts', default: './dist/index.js' },
  './extra': { types: './dist/extra.d.ts', default: './dist/extra.js' },
  './package.json': './package.json',
};

/** A workspace with one built package `demo`, its files given relative to packages/demo/dist. */
function workspace(dist) {
  const root = mkdtempSync(join(tmpdir(), 'api-report-'));
  made.push(root);
  const dir = join(root, 'packages', 'demo');
  mkdirSync(join(dir, 'dist'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'demo', type: 'module', exports: EXPORTS }));
  for (const [path, text] of Object.entries(dist)) {
    mkdirSync(dirname(join(dir, 'dist', path)), { recursive: true });
    writeFileSync(join(dir, 'dist', path), text);
  }
  return root;
}

const BASE = {
  'index.d.ts': [
    "import type { Hidden } from './hidden.js';",
    'export declare class Widget { private secret; make(): Hidden; }',
    'export declare function build(): void;',
    'export declare const LIMIT = 3;',
    'export interface Options { readonly size: number }',
    "export type Mode = 'a' | 'b';",
    "export declare const Kind: { readonly A: 'a' };",
    "export type Kind = 'a';",
  ].join('\n'),
  'index.js': "export class Widget {}\nexport function build() {}\nexport const LIMIT = 3;\nexport const Kind = { A: 'a' };\n",
  'hidden.d.ts': 'export interface Hidden { readonly x: number }\n',
  'extra.d.ts': 'export {};\n',
  'extra.js': 'export {};\n',
};

describe('the API report', () => {
  it('lists every entry point of the exports map but package.json, each name once with its kind, sorted', async () => {
    const api = await readApi(workspace(BASE));
    assert.deepEqual(
      api.entries.map((entry) => entry.specifier),
      ['demo', 'demo/extra'],
    );
    assert.deepEqual(
      api.entries[0]?.names.map(({ name, kind, runtime }) => `${name} ${kind}${runtime ? ' (runtime)' : ''}`),
      ['Kind const + type (runtime)', 'LIMIT const (runtime)', 'Mode type', 'Options interface', 'Widget class (runtime)', 'build function (runtime)'],
    );
    assert.deepEqual(api.entries[1]?.names, []);
  });

  it('names a type that a public declaration mentions but no entry point exports, and who mentions it', async () => {
    const api = await readApi(workspace(BASE));
    assert.deepEqual(api.forgotten, [{ name: 'Hidden', file: 'packages/demo/dist/hidden.d.ts', referencedBy: 'Widget' }]);
    const report = renderApiReport(api);
    assert.match(report, /## Referenced but not exported[\s\S]*\| `Hidden` \| packages\/demo\/dist\/hidden\.d\.ts \| `Widget` \|/);
  });

  it('counts a type exported from another entry point of the workspace as public', async () => {
    const api = await readApi(workspace({ ...BASE, 'extra.d.ts': "export type { Hidden } from './hidden.js';\n" }));
    assert.deepEqual(api.forgotten, []);
    assert.deepEqual(api.entries[1]?.names, [{ name: 'Hidden', kind: 'interface', runtime: false }]);
    assert.match(renderApiReport(api), /None: every workspace type a public declaration mentions is itself public\./);
  });

  it('refuses a value the declarations name that the module does not export, and the reverse', async () => {
    await assert.rejects(
      readApi(workspace({ ...BASE, 'index.js': 'export class Widget {}\nexport const LIMIT = 3;\nexport const Kind = {};\nexport const stray = 1;\n' })),
      (error) => {
        assert.match(error.message, /demo: build is declared as a value but missing at run time/);
        assert.match(error.message, /demo: stray exists at run time but is not declared/);
        return true;
      },
    );
  });

  it('refuses an entry point that re-exports a whole module', async () => {
    await assert.rejects(
      readApi(workspace({ ...BASE, 'extra.d.ts': "export * from './hidden.js';\n" })),
      /demo\/extra: packages\/demo\/dist\/extra\.d\.ts re-exports a whole module \(export \*\); list the names/,
    );
  });
});

describe('the packages\' closed exports maps', () => {
  it('resolve every public entry point by name and refuse every other path', async () => {
    for (const specifier of ['@forgeone/plugin-manager', '@forgeone/plugin-manager/signing', '@forgeone/plugin-manager/wasi', '@forgeone/microkernel', '@forgeone/common']) {
      assert.equal(typeof (await import(specifier)), 'object', specifier);
    }
    for (const specifier of ['@forgeone/plugin-manager/dist/syscall/index.js', '@forgeone/plugin-manager/internals', '@forgeone/microkernel/dist/audit/index.js']) {
      await assert.rejects(import(specifier), { code: 'ERR_PACKAGE_PATH_NOT_EXPORTED' }, specifier);
    }
  });

  it('keep the internals issue 11 named out of every public entry point', async () => {
    const entries = ['@forgeone/plugin-manager', '@forgeone/plugin-manager/signing', '@forgeone/plugin-manager/wasi'];
    const exported = new Set();
    for (const specifier of entries) for (const name of Object.keys(await import(specifier))) exported.add(name);
    for (const internal of ['IO_WORKER_URL', 'guestFailure', 'serveSyncBridge', 'writeFileAtomic', 'InlineBackend', 'PoolBackend', 'HostFunctionRegistry', 'SyncBridge']) {
      assert.equal(exported.has(internal), false, `${internal} is exported`);
    }
    assert.equal(exported.has('PluginRegistry') && exported.has('signPackage') && exported.has('runWasiCommand'), true);
  });
});
