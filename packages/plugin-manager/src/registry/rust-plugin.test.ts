/**
 * examples/rust-plugin, written in Rust with the PDK (pdk/rust), as a user would ship it:
 * compiled by its build script (rustc alone), packed from its directory with the
 * repository's packer, signed by the test publisher, installed into a store, loaded and
 * called on every backend. The hostile cases are the plugin's own: malformed, too deep
 * and oversized input come back with its codes, and a host call the operator's policy
 * refuses reaches the caller with the code the wrapper returned.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import type { LogRecord } from '@forgeone/common';
import { forgeErrorOf } from '@forgeone/common/testing';
import { guestCodeOf } from '../abi/test-support/guest-code.js';
import { packDirectory } from '../loader/pack.js';
import type { PluginManager } from './manager.js';
import { installExample } from './test-support/installed.js';
import { read, signAsTestPublisher, text } from './test-support/plugins.js';
import { REPO, requireRust, runBuild, rustDir } from './test-support/rust.js';

const EXAMPLE = join(REPO, 'examples/rust-plugin');
const dir = rustDir();
after(() => rmSync(dir, { recursive: true, force: true }));

let built: Promise<Buffer> | undefined;

/** The example, built, packed and signed once per run; skipped (failed under CI) without rustc for wasm32-wasi. */
async function rustPlugin(t: TestContext): Promise<Buffer | undefined> {
  if (!requireRust(t, dir)) return undefined;
  built ??= (async () => {
    const pkgDir = join(dir, 'package'); // plugin.toml and plugin.wasm only, apart from the probe
    mkdirSync(pkgDir);
    copyFileSync(join(EXAMPLE, 'plugin.toml'), join(pkgDir, 'plugin.toml'));
    runBuild(join(EXAMPLE, 'build.mjs'), [join(pkgDir, 'plugin.wasm')], join(pkgDir, 'plugin.wasm'));
    return signAsTestPublisher((await packDirectory(pkgDir)).bytes);
  })();
  return built;
}

/** A registry with the example installed in its store and loaded from there, started. */
async function installed(backend: 'inline' | 'pool' | 'process', pkg: Buffer, yaml = '', records: LogRecord[] = []): Promise<PluginManager> {
  return (await installExample(backend, pkg, 'rust-records', yaml, records)).manager;
}

const RECORDS = [
  { name: 'ada', age: 36, city: { name: 'London' }, tags: ['math', 'code'] },
  { name: 'bob', age: 17, city: { name: 'Paris' }, tags: [] },
  { name: 'cy', age: 36, city: { name: 'Oslo' }, tags: ['code'] },
  { name: 'dee', age: 52.5, tags: ['code'] },
  { name: 'eve', age: '40', city: { name: 'Rome' } },
];

const query = (q: object): Uint8Array => text(JSON.stringify({ records: RECORDS, ...q }));

for (const backend of ['inline', 'pool', 'process'] as const) {
  describe(`examples/rust-plugin (Rust PDK) installed from a signed package on the ${backend} backend`, () => {
    it('filters, sorts, selects and limits records; converts CSV to JSON; logs from init; keeps a query total in the key-value store across a reload', async (t) => {
      const pkg = await rustPlugin(t);
      if (pkg === undefined) return;
      const records: LogRecord[] = [];
      const manager = await installed(backend, pkg, '', records);
      try {
        const { registry } = manager;
        const call = async (name: string, input: Uint8Array): Promise<unknown> => JSON.parse(read(await registry.call('rust-records', name, input)));
        assert.deepEqual(await call('query', query({ where: [{ field: 'tags', op: 'contains', value: 'code' }], sort: [{ field: 'age', desc: true }, { field: 'name' }], select: ['name', 'city.name'], limit: 2 })), {
          total: 3,
          count: 2,
          records: [{ name: 'dee', 'city.name': null }, { name: 'ada', 'city.name': 'London' }],
        });
        // A number condition does not match the string "40"; sorting with no keys keeps the document's order.
        assert.deepEqual(await call('query', query({ where: [{ field: 'age', op: '>=', value: 18 }], select: ['name'] })), { total: 3, count: 3, records: [{ name: 'ada' }, { name: 'cy' }, { name: 'dee' }] });
        assert.deepEqual(await call('query', query({})), { total: 5, count: 5, records: RECORDS });
        assert.deepEqual(await call('csv', text('name,note\r\nada,"says ""hi"", twice"\nbob,"two\nlines"\n')), [{ name: 'ada', note: 'says "hi", twice' }, { name: 'bob', note: 'two\nlines' }]);
        assert.deepEqual(await call('stats', new Uint8Array(0)), { queries: 3, total: 3 });
        assert.ok(records.some((record) => record.message === 'rust-records ready'), `found ${JSON.stringify(records.map((record) => record.message))}`);
        await registry.unloadPlugin('rust-records');
        assert.deepEqual(await manager.loadInstalled(), ['rust-records']);
        await registry.startPlugin('rust-records');
        await call('query', query({ limit: 0 }));
        assert.deepEqual(await call('stats', new Uint8Array(0)), { queries: 1, total: 4 }, 'a new instance, the stored total');
      } finally {
        await manager.close();
      }
    });

    it("refuses input over its 1 MiB limit, malformed or too deep JSON, a bad query and bad CSV with its own codes, and stays usable", async (t) => {
      const pkg = await rustPlugin(t);
      if (pkg === undefined) return;
      const manager = await installed(backend, pkg);
      try {
        const { registry } = manager;
        const tooLarge = await forgeErrorOf(registry.call('rust-records', 'query', new Uint8Array(1024 * 1024 + 1).fill(0x20)));
        assert.equal(tooLarge?.code, 'FO_ABI_GUEST_ERROR');
        assert.deepEqual([tooLarge.details['guestCode'], tooLarge.details['guestMessage']], ['E_TOO_LARGE', 'query takes at most 1048576 bytes, found 1048577']);
        const atLimit = new Uint8Array(1024 * 1024).fill(0x20);
        atLimit.set(text('{"records":[]}'));
        assert.deepEqual(JSON.parse(read(await registry.call('rust-records', 'query', atLimit))), { total: 0, count: 0, records: [] }, 'the limit itself is accepted');
        const codes: Record<string, string> = {};
        const cases: [string, string, Uint8Array][] = [
          ['not json', 'query', text('{"records": [1,]}')],
          ['not utf-8', 'query', Uint8Array.from([0x7b, 0xff, 0x7d])],
          ['33 levels', 'query', text(`{"records":${'['.repeat(32)}${']'.repeat(32)}}`)],
          ['a million levels', 'query', text('['.repeat(1_000_000))],
          ['no records', 'query', text('{"rows":[]}')],
          ['bad op', 'query', query({ where: [{ field: 'age', op: 'like', value: 1 }] })],
          ['bad limit', 'query', query({ limit: -1 })],
          ['bad select', 'query', query({ select: [1] })],
          ['open quote', 'csv', text('a,b\n"x,y\n')],
          ['ragged row', 'csv', text('a,b\n1,2,3\n')],
          ['stray quote', 'csv', text('a,b\nx"y,2\n')],
          ['csv too large', 'csv', new Uint8Array(1024 * 1024 + 1).fill(0x61)],
        ];
        for (const [name, fn, input] of cases) codes[name] = await guestCodeOf(registry.call('rust-records', fn, input));
        assert.deepEqual(codes, {
          'not json': 'E_BAD_JSON',
          'not utf-8': 'E_BAD_JSON',
          '33 levels': 'E_TOO_DEEP',
          'a million levels': 'E_TOO_DEEP',
          'no records': 'E_BAD_QUERY',
          'bad op': 'E_BAD_QUERY',
          'bad limit': 'E_BAD_QUERY',
          'bad select': 'E_BAD_QUERY',
          'open quote': 'E_BAD_CSV',
          'ragged row': 'E_BAD_CSV',
          'stray quote': 'E_BAD_CSV',
          'csv too large': 'E_TOO_LARGE',
        });
        assert.deepEqual(JSON.parse(read(await registry.call('rust-records', 'csv', text('still\nhere')))), [{ still: 'here' }]);
      } finally {
        await manager.close();
      }
    });

    it("relays the operator's denial of forge.kv_set: the wrapper's FO_ABI_HOST_DENIED reaches the caller", async (t) => {
      const pkg = await rustPlugin(t);
      if (pkg === undefined) return;
      const grant = '  policy:\n    grants:\n      rust-records:\n        syscalls: ["forge.kv_get"]\n';
      const manager = await installed(backend, pkg, grant);
      try {
        const denied = await forgeErrorOf(manager.registry.call('rust-records', 'stats'));
        assert.equal(denied?.code, 'FO_ABI_GUEST_ERROR');
        assert.equal(denied.details['guestCode'], 'FO_ABI_HOST_DENIED');
        assert.deepEqual(JSON.parse(read(await manager.registry.call('rust-records', 'csv', text('y\n1')))), [{ y: '1' }], 'still usable');
      } finally {
        await manager.close();
      }
    });
  });
}
