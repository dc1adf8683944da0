/**
 * examples/c-plugin, written in C with the PDK (pdk/c/forge.h), as a user would ship it:
 * compiled by its build script (clang, lld, wasi-libc), packed from its directory with
 * the repository's packer, signed by the test publisher, installed into a store, loaded
 * and called on every backend. The hostile cases are the PDK's own: inputs over the
 * plugin's limit or not UTF-8 come back with the plugin's codes, and a host call the
 * operator's policy refuses reaches the caller with the code the wrapper returned.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { LogRecord } from '@forgeone/common';
import { forgeErrorOf, requireTool } from '@forgeone/common/testing';
import { guestCodeOf } from '../abi/test-support/guest-code.js';
import { packDirectory } from '../loader/pack.js';
import { clangArgs, programDir, writeProbe } from '../runtime/wasm/test-support/c-programs.js';
import type { PluginManager } from './manager.js';
import { installExample } from './test-support/installed.js';
import { read, signAsTestPublisher, text } from './test-support/plugins.js';

const EXAMPLE = fileURLToPath(new URL('../../../../examples/c-plugin/', import.meta.url));
const dir = programDir();
after(() => rmSync(dir, { recursive: true, force: true }));

let built: Promise<Buffer> | undefined;

/** The example, built, packed and signed once per run; skipped (failed under CI) without clang for wasm32-wasi. */
async function cPlugin(t: TestContext): Promise<Buffer | undefined> {
  if (!requireTool(t, 'clang', clangArgs(writeProbe(dir), join(dir, 'probe.wasm')))) return undefined;
  built ??= (async () => {
    copyFileSync(join(EXAMPLE, 'plugin.toml'), join(dir, 'plugin.toml'));
    const build = spawnSync(process.execPath, [join(EXAMPLE, 'build.mjs'), join(dir, 'plugin.wasm')], { encoding: 'utf8' });
    assert.equal(build.status, 0, build.stderr);
    return signAsTestPublisher((await packDirectory(dir)).bytes);
  })();
  return built;
}

/** A registry with the example installed in its store and loaded from there, started. */
async function installed(backend: 'inline' | 'pool' | 'process', pkg: Buffer, yaml = '', records: LogRecord[] = []): Promise<PluginManager> {
  return (await installExample(backend, pkg, 'c-markdown', yaml, records)).manager;
}

const MARKDOWN = [
  '# Notes *from* C',
  '',
  'Hello **bold *and* em** with `a<b && c`.',
  'Second line & more.',
  '',
  '- one',
  '- [two](https://example.com/?a=1&b="2")',
  '* [three](JavaScript:void)',
  '```',
  '<script>alert("x")</script>',
  '```',
].join('\n');

const HTML = [
  '<h1>Notes <em>from</em> C</h1>',
  '<p>Hello <strong>bold <em>and</em> em</strong> with <code>a&lt;b &amp;&amp; c</code>.',
  'Second line &amp; more.</p>',
  '<ul>',
  '<li>one</li>',
  '<li><a href="https://example.com/?a=1&amp;b=&quot;2&quot;">two</a></li>',
  '<li>three</li>',
  '</ul>',
  '<pre><code>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;',
  '</code></pre>',
  '',
].join('\n');

for (const backend of ['inline', 'pool', 'process'] as const) {
  describe(`examples/c-plugin (C PDK) installed from a signed package on the ${backend} backend`, () => {
    it('renders Markdown to HTML with every text byte escaped and unsafe links dropped; logs from init and stop; stats is JSON; the total survives a reload in the key-value store', async (t) => {
      const pkg = await cPlugin(t);
      if (pkg === undefined) return;
      const records: LogRecord[] = [];
      const manager = await installed(backend, pkg, '', records);
      try {
        assert.equal(read(await manager.registry.call('c-markdown', 'render', text(MARKDOWN))), HTML);
        assert.equal(read(await manager.registry.call('c-markdown', 'render', text('plain\r\ntext'))), '<p>plain\ntext</p>\n');
        assert.equal(read(await manager.registry.call('c-markdown', 'render', new Uint8Array(0))), '');
        assert.deepEqual(JSON.parse(read(await manager.registry.call('c-markdown', 'stats'))), { renders: 3, total: 3, largest: text(MARKDOWN).length });
        assert.deepEqual(JSON.parse(read(await manager.registry.call('c-markdown', 'stats'))), { renders: 3, total: 3, largest: text(MARKDOWN).length }, 'counted once');
        assert.ok(
          records.some((record) => record.message === 'c-markdown ready'),
          `the init step's forge.log record reached the host's logger; found ${JSON.stringify(records.map((record) => record.message))}`,
        );
        // Rendered after the last stats: plugin_stop adds it to the stored total.
        await manager.registry.call('c-markdown', 'render', text('saved by stop'));
        await manager.registry.unloadPlugin('c-markdown');
        assert.ok(records.some((record) => record.message === 'c-markdown stopping; documents rendered: 4'));
        assert.deepEqual(await manager.loadInstalled(), ['c-markdown']);
        await manager.registry.startPlugin('c-markdown');
        await manager.registry.call('c-markdown', 'render', text('again'));
        assert.deepEqual(JSON.parse(read(await manager.registry.call('c-markdown', 'stats'))), { renders: 1, total: 5, largest: 5 }, 'a new instance, the stored total');
      } finally {
        await manager.close();
      }
    });

    it("refuses input over the plugin's 256 KiB limit and ill-formed UTF-8 with its own codes (FO_ABI_GUEST_ERROR), and stays usable", async (t) => {
      const pkg = await cPlugin(t);
      if (pkg === undefined) return;
      const manager = await installed(backend, pkg);
      try {
        const { registry } = manager;
        const tooLarge = await forgeErrorOf(registry.call('c-markdown', 'render', new Uint8Array(256 * 1024 + 1).fill(0x61)));
        assert.equal(tooLarge?.code, 'FO_ABI_GUEST_ERROR');
        assert.deepEqual([tooLarge.details['guestCode'], tooLarge.details['guestMessage']], ['E_TOO_LARGE', 'render takes at most 262144 bytes of Markdown']);
        assert.equal((await registry.call('c-markdown', 'render', new Uint8Array(256 * 1024).fill(0x61))).length, 256 * 1024 + '<p></p>\n'.length, 'the limit itself is accepted');
        for (const bad of [[0x61, 0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82]]) {
          assert.equal(await guestCodeOf(registry.call('c-markdown', 'render', Uint8Array.from(bad))), 'E_BAD_UTF8', `bytes ${bad.join(',')}`);
        }
        assert.equal(read(await registry.call('c-markdown', 'render', text('still *here*'))), '<p>still <em>here</em></p>\n');
      } finally {
        await manager.close();
      }
    });

    it("relays the operator's denial of forge.kv_set: the wrapper's FO_ABI_HOST_DENIED reaches the caller, and plugin_stop logs it", async (t) => {
      const pkg = await cPlugin(t);
      if (pkg === undefined) return;
      const grant = '  policy:\n    grants:\n      c-markdown:\n        syscalls: ["forge.kv_get"]\n';
      const records: LogRecord[] = [];
      const manager = await installed(backend, pkg, grant, records);
      try {
        await manager.registry.call('c-markdown', 'render', text('x'));
        const denied = await forgeErrorOf(manager.registry.call('c-markdown', 'stats'));
        assert.equal(denied?.code, 'FO_ABI_GUEST_ERROR');
        assert.equal(denied.details['guestCode'], 'FO_ABI_HOST_DENIED');
        assert.equal(read(await manager.registry.call('c-markdown', 'render', text('y'))), '<p>y</p>\n', 'still usable');
      } finally {
        await manager.close();
      }
      // plugin_stop met the same refusal, logged it with the wrapper's code and stopped cleanly.
      const warning = records.find((record) => record.message.startsWith('c-markdown stopping'));
      assert.equal(warning?.message, 'c-markdown stopping; documents rendered: 2; could not save the total: FO_ABI_HOST_DENIED');
    });
  });
}
