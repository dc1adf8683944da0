/**
 * examples/sample-plugin, written in AssemblyScript with @forgeone/pdk, as a user would
 * ship it: compiled by its build script (asc), packed from its directory, signed by the
 * test publisher, installed into a store, loaded and called on every backend. greet works
 * with no grant at all; fetch reaches a loopback server only when the operator grants
 * 127.0.0.1, and a host outside the manifest's allowed_hosts is refused with
 * FO_ABI_HOST_DENIED and audited.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { LogRecord } from '@forgeone/common';
import { forgeErrorOf } from '@forgeone/common/testing';
import { readAuditTail, type AuditEventRecord } from '@forgeone/microkernel';
import { guestCodeOf } from '../abi/test-support/guest-code.js';
import { packDirectory } from '../loader/pack.js';
import { startTestServer, type TestServer } from '../syscall/test-support/http-server.js';
import { installExample, type Installed } from './test-support/installed.js';
import { read, signAsTestPublisher, text } from './test-support/plugins.js';

const EXAMPLE = fileURLToPath(new URL('../../../../examples/sample-plugin/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'forge-sample-plugin-'));
let server: TestServer;
let pkg: Buffer;
before(async () => {
  server = await startTestServer();
  copyFileSync(join(EXAMPLE, 'plugin.toml'), join(dir, 'plugin.toml'));
  const build = spawnSync(process.execPath, [join(EXAMPLE, 'build.mjs'), join(dir, 'plugin.wasm')], { encoding: 'utf8' });
  assert.equal(build.status, 0, build.stderr);
  pkg = await signAsTestPublisher((await packDirectory(dir)).bytes);
});
after(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A registry with the sample installed in its store, loaded from there and started. */
function installed(backend: 'inline' | 'pool' | 'process', yaml = '', records: LogRecord[] = []): Promise<Installed> {
  return installExample(backend, pkg, 'sample-plugin', yaml, records);
}

const GRANT = '  policy:\n    grants:\n      sample-plugin:\n        hosts: ["127.0.0.1"]\n        config:\n          greeting: Good morning\n';

for (const backend of ['inline', 'pool', 'process'] as const) {
  describe(`examples/sample-plugin (AssemblyScript PDK) installed from a signed package on the ${backend} backend`, () => {
    it('greets and counts with no grant; welcome falls back without config; fetch of an allowed host the operator did not grant is FO_ABI_HOST_DENIED', async () => {
      const { manager } = await installed(backend);
      const { registry } = manager;
      try {
        assert.equal(read(await registry.call('sample-plugin', 'greet', text('Ada'))), 'Hello, Ada!');
        assert.equal(read(await registry.call('sample-plugin', 'greet', text('Zoë'))), 'Hello, Zoë!');
        assert.equal(read(await registry.call('sample-plugin', 'state')), '2', 'running');
        assert.equal(read(await registry.call('sample-plugin', 'welcome', text('Ada'))), 'Welcome, Ada!');
        assert.deepEqual([read(await registry.call('sample-plugin', 'count')), read(await registry.call('sample-plugin', 'count'))], ['1', '2']);
        assert.equal(await guestCodeOf(registry.call('sample-plugin', 'fetch', text(`${server.origin}/hello`))), 'FO_ABI_HOST_DENIED');
        assert.equal(read(await registry.call('sample-plugin', 'greet', text('still here'))), 'Hello, still here!');
      } finally {
        await manager.close();
      }
    });

    it("runs every lifecycle step, keeps the count across a reload, logs a note, greets with the operator's greeting", async () => {
      const records: LogRecord[] = [];
      const { manager } = await installed(backend, GRANT, records);
      const { registry } = manager;
      try {
        await registry.pausePlugin('sample-plugin');
        await registry.resumePlugin('sample-plugin');
        assert.equal(read(await registry.call('sample-plugin', 'state')), '2', 'paused, then running again');
        assert.equal(read(await registry.call('sample-plugin', 'welcome', text('Ada'))), 'Good morning, Ada!');
        assert.equal(read(await registry.call('sample-plugin', 'count')), '1');
        assert.equal((await registry.call('sample-plugin', 'note', text('a note from the test'))).length, 0);
        assert.ok(records.some((record) => record.message === 'a note from the test'), 'the note reached the host log');
        await registry.unloadPlugin('sample-plugin');
        assert.deepEqual(await manager.loadInstalled(), ['sample-plugin']);
        await registry.startPlugin('sample-plugin');
        assert.equal(read(await registry.call('sample-plugin', 'count')), '2', 'a new instance, the stored count');
      } finally {
        await manager.close();
      }
    });

    it('fetches from the granted loopback server; a host outside allowed_hosts is FO_ABI_HOST_DENIED and audited', async () => {
      const { manager, home } = await installed(backend, GRANT);
      const { registry } = manager;
      try {
        assert.equal(read(await registry.call('sample-plugin', 'fetch', text(`${server.origin}/hello`))), '200 hello');
        const denied = await forgeErrorOf(registry.call('sample-plugin', 'fetch', text('http://192.0.2.1/')));
        assert.equal(denied?.code, 'FO_ABI_GUEST_ERROR');
        assert.equal(denied.details['guestCode'], 'FO_ABI_HOST_DENIED');
        assert.equal(read(await registry.call('sample-plugin', 'greet', text('after'))), 'Hello, after!', 'still usable');
      } finally {
        await manager.close();
      }
      const tail = await readAuditTail({ path: join(home, 'audit.log'), limit: 1000 });
      const http = tail.records.filter((record): record is AuditEventRecord => record.type === 'event' && record.action === 'forge.http_request' && record.decision === 'deny');
      assert.deepEqual(
        http.map((record) => record.resource),
        ['192.0.2.1:80'],
        'the refused host, audited once',
      );
    });

    it('implements its own extension point with greet, and adds shout at run time; an unknown point is FO_EXTENSION_UNKNOWN_POINT', async () => {
      const { manager } = await installed(backend);
      const { registry } = manager;
      try {
        const outputs = async (): Promise<[string, string][]> =>
          (await registry.invokeExtensions('sample.greeting', text('Ada'))).map((result) => [result.plugin, read(result.output ?? new Uint8Array(0))]);
        assert.deepEqual(await outputs(), [['sample-plugin', 'Hello, Ada!']]);
        assert.equal(read(await registry.call('sample-plugin', 'extend', text('sample.greeting'))), 'registered');
        assert.deepEqual(await outputs(), [
          ['sample-plugin', 'Hello, Ada!'],
          ['sample-plugin', 'HELLO, ADA!'],
        ]);
        assert.equal(await guestCodeOf(registry.call('sample-plugin', 'extend', text('no.such.point'))), 'FO_EXTENSION_UNKNOWN_POINT');
      } finally {
        await manager.close();
      }
    });
  });
}
