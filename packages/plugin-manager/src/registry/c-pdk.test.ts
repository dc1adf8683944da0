/**
 * The C PDK's wrappers against the real host: pdk/c/tests/wrappers.c, compiled with
 * clang against pdk/c/forge.h, signed and loaded into a registry with every permission
 * its calls need, exercises each forge.* wrapper, the JSON writer, the input ownership
 * rules of FORGE_EXPORT and the error relay; each answer is checked against what the
 * host did (files on disk, events received, extensions registered).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { forgeErrorOf, requireTool } from '@forgeone/common/testing';
import { guestCodeOf } from '../abi/test-support/guest-code.js';
import { clangArgs, programDir, writeProbe } from '../runtime/wasm/test-support/c-programs.js';
import { startTestServer, type TestServer } from '../syscall/test-support/http-server.js';
import { guestJson, pdkGuestToml, startPdkGuest, type PdkGuest } from './test-support/pdk-guest.js';
import { read, text } from './test-support/plugins.js';

const PDK = fileURLToPath(new URL('../../../../pdk/c/', import.meta.url));
const TOML = pdkGuestToml();

let server: TestServer;
const dir = programDir();
before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

let wasm: Buffer | undefined;

/** The guest module; skipped (failed under CI) without clang for wasm32-wasi. */
function guestWasm(t: TestContext): Buffer | undefined {
  if (!requireTool(t, 'clang', clangArgs(writeProbe(dir), join(dir, 'probe.wasm')))) return undefined;
  if (wasm === undefined) {
    const output = join(dir, 'wrappers.wasm');
    const flags = ['-mexec-model=reactor', '-O2', '-std=c99', '-Wall', '-Wextra', '-Werror', '-pedantic', `-I${PDK}`];
    const result = spawnSync('clang', clangArgs(join(PDK, 'tests/wrappers.c'), output, flags), { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    wasm = readFileSync(output);
  }
  return wasm;
}

type Fixture = PdkGuest;

for (const backend of ['inline', 'pool', 'process'] as const) {
  describe(`the C PDK's wrappers against the host on the ${backend} backend`, () => {
    let fixture: Promise<Fixture> | undefined;
    after(async () => {
      if (fixture !== undefined) await (await fixture).registry.close();
    });

    /** One registry for the suite: lib (the WAT test guest, for call_plugin) and the PDK guest, both started. */
    async function setup(t: TestContext): Promise<Fixture | undefined> {
      const bytes = guestWasm(t);
      if (bytes === undefined) return undefined;
      fixture ??= startPdkGuest(backend, bytes, TOML);
      return fixture;
    }

    const json = guestJson;

    it('sets, pages through, gets and deletes keys with the kv wrappers', async (t) => {
      const f = await setup(t);
      if (f === undefined) return;
      assert.deepEqual(await json(f.registry, 'kv'), {
        pages: [['p/a', 'p/b'], ['p/c']],
        get: 'ok',
        value: 'b',
        delete: 'ok',
        delete_again: 'ok',
        removed: [true, false],
        after: 'FO_SYSCALL_KV_NOT_FOUND',
        after_value_len: 0,
      });
    });

    it("reads the operator's config value, and answers FO_SYSCALL_CONFIG_NOT_FOUND for a key without one", async (t) => {
      const f = await setup(t);
      if (f === undefined) return;
      assert.equal(read(await f.registry.call('pdk-guest', 'config', text('greeting'))), 'hello from the operator');
      assert.equal(await guestCodeOf(f.registry.call('pdk-guest', 'config', text('absent'))), 'FO_SYSCALL_CONFIG_NOT_FOUND');
    });

    it('reads the clocks and random bytes, and passes on the refusal of 64 KiB + 1 random bytes', async (t) => {
      const f = await setup(t);
      if (f === undefined) return;
      const before = Date.now();
      const first = (await json(f.registry, 'clocks')) as { time: string; wall_ms: number; monotonic_ordered: boolean; random: string; bytes: number[]; random_over_limit: string };
      const second = (await json(f.registry, 'clocks')) as typeof first;
      assert.deepEqual([first.time, first.monotonic_ordered, first.random, first.random_over_limit], ['ok', true, 'ok', 'FO_SYSCALL_PAYLOAD_TOO_LARGE']);
      assert.ok(first.wall_ms >= before - 1000 && first.wall_ms <= Date.now() + 1000, `wall clock ${first.wall_ms} near ${before}`);
      assert.equal(first.bytes.length, 32);
      assert.notDeepEqual(first.bytes, second.bytes, 'two draws of 32 random bytes differ');
    });

    it('writes a file in every mode and reads it back; the refusals come back as codes, and nothing outside the volume is read', async (t) => {
      const f = await setup(t);
      if (f === undefined) return;
      assert.deepEqual(await json(f.registry, 'files'), {
        replace: 'ok',
        append: 'ok',
        create: 'FO_SYSCALL_FILE_EXISTS',
        read: 'ok',
        content: 'hello world',
        missing: 'FO_SYSCALL_FILE_NOT_FOUND',
        outside: 'FO_ABI_HOST_DENIED',
        outside_len: 0,
      });
      assert.equal(await readFile(join(f.volume, 'out.txt'), 'utf8'), 'hello world');
    });

    it('emits an event the host listeners receive, calls a dependency, and registers an extension the host then invokes', async (t) => {
      const f = await setup(t);
      if (f === undefined) return;
      assert.equal(read(await f.registry.call('pdk-guest', 'event', text('payload-1'))), 'sent');
      assert.deepEqual(f.events, [['pdk-guest', 'pdk.tested', 'payload-1']]);
      assert.equal(read(await f.registry.call('pdk-guest', 'relay', text('through lib'))), 'through lib');
      f.registry.declareExtensionPoint('text.upper');
      await f.registry.call('pdk-guest', 'extend', text('text.upper'));
      const results = await f.registry.invokeExtensions('text.upper', text('shout'));
      assert.deepEqual(results.map((result) => [result.plugin, read(result.output ?? new Uint8Array(0)), result.error?.code]), [['pdk-guest', 'SHOUT', undefined]]);
      assert.equal(await guestCodeOf(f.registry.call('pdk-guest', 'extend', text('no.such.point'))), 'FO_EXTENSION_UNKNOWN_POINT');
    });

    it('makes an HTTP request with a header, following a redirect, and walks the response headers', async (t) => {
      const f = await setup(t);
      if (f === undefined) return;
      const response = (await json(f.registry, 'http', text(`${server.origin}/redirect?to=/hello`))) as { status: number; url: string; body: string; headers: Record<string, string> };
      assert.deepEqual([response.status, response.url, response.body, response.headers['x-test']], [200, `${server.origin}/hello`, 'hello', 'yes']);
      assert.equal(await guestCodeOf(f.registry.call('pdk-guest', 'http', text('http://192.0.2.1/'))), 'FO_ABI_HOST_DENIED');
    });

    it('writes valid JSON: escapes, U+FFFD for ill-formed UTF-8, 64-bit limits, nesting', async (t) => {
      const f = await setup(t);
      if (f === undefined) return;
      const raw = read(await f.registry.call('pdk-guest', 'json', Uint8Array.from([0x22, 0x3c, 0xff, 0x0a])));
      assert.equal(
        raw,
        '{"s":"q\\" b\\\\ n\\n t\\t c\\u0001 bad\\ufffd\\ufffd\\ufffd e\u00e9 \u{1f600}","input":"\\"<\\ufffd\\n","neg":-42,"max":18446744073709551615,"min":-9223372036854775808,"flags":[true,false,null,-1,[],{}]}',
      );
      assert.equal((JSON.parse(raw) as { s: string }).s, 'q" b\\ n\n t\t c\u0001 bad\ufffd\ufffd\ufffd e\u00e9 \u{1f600}');
    });

    it('refuses every misuse of the JSON writer instead of writing invalid JSON: PDK_TOO_LARGE over its limit, PDK_BAD_JSON otherwise', async (t) => {
      const f = await setup(t);
      if (f === undefined) return;
      const codes: Record<string, string> = {};
      for (const which of ['l', 'd', 'u', 'k', 'v', 'm']) codes[which] = await guestCodeOf(f.registry.call('pdk-guest', 'json_misuse', text(which)));
      assert.deepEqual(codes, { l: 'PDK_TOO_LARGE', d: 'PDK_BAD_JSON', u: 'PDK_BAD_JSON', k: 'PDK_BAD_JSON', v: 'PDK_BAD_JSON', m: 'PDK_BAD_JSON' });
    });

    it('hands the input back in place, copies a kept view of the input before freeing it, and stays sound over many calls', async (t) => {
      const f = await setup(t);
      if (f === undefined) return;
      for (let i = 0; i < 200; i++) {
        const input = `round ${i} ${'x'.repeat(i * 37)}`;
        assert.equal(read(await f.registry.call('pdk-guest', 'upper', text(input))), input.toUpperCase());
        assert.equal(read(await f.registry.call('pdk-guest', 'tail', text(input))), input.slice(1));
      }
      assert.equal(read(await f.registry.call('pdk-guest', 'upper', new Uint8Array(0))), '');
      assert.equal(await guestCodeOf(f.registry.call('pdk-guest', 'tail', text('x'))), 'E_SHORT');
    });

    it("relays a host refusal with the host's code and message, and an ill-formed code is the host's FO_ABI_BAD_ERROR_PAYLOAD", async (t) => {
      const f = await setup(t);
      if (f === undefined) return;
      const relayed = await forgeErrorOf(f.registry.call('pdk-guest', 'relay_error'));
      assert.equal(relayed?.code, 'FO_ABI_GUEST_ERROR');
      assert.equal(relayed.details['guestCode'], 'FO_SYSCALL_KV_BAD_KEY');
      assert.match(String(relayed.details['guestMessage']), /key/);
      assert.equal((await forgeErrorOf(f.registry.call('pdk-guest', 'bad_code')))?.code, 'FO_ABI_BAD_ERROR_PAYLOAD');
      assert.deepEqual(await json(f.registry, 'log_sizes'), { at_limit: 'ok', over_limit: 'FO_ABI_INPUT_TOO_LARGE' });
    });
  });
}
