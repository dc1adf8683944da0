/**
 * The AssemblyScript PDK's wrappers against the real host: packages/pdk/tests/assembly/
 * wrappers.ts, compiled with asc by the PDK's build (packages/pdk/build.mjs), signed and
 * loaded into a registry with every permission its calls need, exercises each forge.*
 * wrapper, the JSON writer and reader, the input and output hand-over of `call`, the
 * error relay and the abort route; each answer is checked against what the host did
 * (files on disk, events received, extensions registered, log records written).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { forgeErrorOf } from '@forgeone/common/testing';
import { guestCodeOf } from '../abi/test-support/guest-code.js';
import { wasm as webAssembly } from '../abi/wasm-api.js';
import { startTestServer, type TestServer } from '../syscall/test-support/http-server.js';
import { guestJson, pdkGuestToml, startPdkGuest, type PdkGuest } from './test-support/pdk-guest.js';
import { read, text } from './test-support/plugins.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const TOML = pdkGuestToml(['start = "on_start"']);

let server: TestServer;
let dir: string;
let wasm: Buffer;
before(async () => {
  server = await startTestServer();
  dir = await mkdtemp(join(tmpdir(), 'forge-as-pdk-'));
  const output = join(dir, 'wrappers.wasm');
  const build = spawnSync(process.execPath, [join(ROOT, 'packages/pdk/build.mjs'), join(ROOT, 'packages/pdk/tests/assembly/wrappers.ts'), output], { encoding: 'utf8' });
  assert.equal(build.status, 0, build.stderr);
  wasm = readFileSync(output);
});
after(async () => {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

type Fixture = PdkGuest;

describe("the AssemblyScript PDK's module", () => {
  it('imports only forge.* calls (no env.abort, no WASI) and exports the allocator, memory and _initialize', () => {
    const module = new webAssembly.Module(wasm);
    const imports = webAssembly.Module.imports(module).map((entry) => `${entry.module}.${entry.name}`);
    assert.deepEqual(imports.filter((name) => !name.startsWith('forge.')), []);
    assert.deepEqual(
      [...imports].sort(),
      ['call_plugin', 'config_get', 'emit_event', 'file_read', 'file_write', 'http_request', 'kv_delete', 'kv_get', 'kv_list', 'kv_set', 'log', 'random_get', 'register_extension', 'time_now'].map((name) => `forge.${name}`),
      'every wrapper is used here, so every call the ABI lists is imported',
    );
    const exports = webAssembly.Module.exports(module).map((entry) => entry.name);
    for (const name of ['memory', 'forge_alloc', 'forge_free', '_initialize', 'on_start']) assert.ok(exports.includes(name), `exports ${name}`);
  });
});

for (const backend of ['inline', 'pool', 'process'] as const) {
  describe(`the AssemblyScript PDK's wrappers against the host on the ${backend} backend`, () => {
    let fixture: Promise<Fixture> | undefined;
    after(async () => {
      if (fixture !== undefined) await (await fixture).registry.close();
    });

    /** One registry for the suite: lib (the WAT test guest, for call_plugin) and the PDK guest, both started. */
    function setup(): Promise<Fixture> {
      fixture ??= startPdkGuest(backend, wasm, TOML);
      return fixture;
    }

    const json = guestJson;

    it('sets, pages through, gets and deletes keys with the kv wrappers; the start step logged through forge.log', async () => {
      const f = await setup();
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
      assert.ok(f.records.some((record) => record.message === 'pdk-guest started'), 'the lifecycle step logged');
    });

    it("reads the operator's config value, and relays FO_SYSCALL_CONFIG_NOT_FOUND for a key without one", async () => {
      const f = await setup();
      assert.equal(read(await f.registry.call('pdk-guest', 'config', text('greeting'))), 'hello from the operator');
      assert.equal(await guestCodeOf(f.registry.call('pdk-guest', 'config', text('absent'))), 'FO_SYSCALL_CONFIG_NOT_FOUND');
    });

    it('reads the clocks and random bytes, and passes on the refusal of 64 KiB + 1 random bytes', async () => {
      const f = await setup();
      const before = Date.now();
      const first = (await json(f.registry, 'clocks')) as { time: string; wall_ms: number; monotonic_ordered: boolean; random: string; bytes: number[]; random_over_limit: string };
      const second = (await json(f.registry, 'clocks')) as typeof first;
      assert.deepEqual([first.time, first.monotonic_ordered, first.random, first.random_over_limit], ['ok', true, 'ok', 'FO_SYSCALL_PAYLOAD_TOO_LARGE']);
      assert.ok(first.wall_ms >= before - 1000 && first.wall_ms <= Date.now() + 1000, `wall clock ${first.wall_ms} near ${before}`);
      assert.equal(first.bytes.length, 32);
      assert.notDeepEqual(first.bytes, second.bytes, 'two draws of 32 random bytes differ');
    });

    it('writes a file in every mode and reads it back; the refusals come back as codes, and nothing outside the volume is read', async () => {
      const f = await setup();
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

    it('emits an event the host listeners receive, calls a dependency, and registers an extension the host then invokes', async () => {
      const f = await setup();
      assert.equal(read(await f.registry.call('pdk-guest', 'event', text('payload-1'))), 'sent');
      assert.deepEqual(f.events, [['pdk-guest', 'pdk.tested', 'payload-1']]);
      assert.equal(read(await f.registry.call('pdk-guest', 'relay', text('through lib'))), 'through lib');
      f.registry.declareExtensionPoint('text.upper');
      await f.registry.call('pdk-guest', 'extend', text('text.upper'));
      const results = await f.registry.invokeExtensions('text.upper', text('shout'));
      assert.deepEqual(results.map((result) => [result.plugin, read(result.output ?? new Uint8Array(0)), result.error?.code]), [['pdk-guest', 'SHOUT', undefined]]);
      assert.equal(await guestCodeOf(f.registry.call('pdk-guest', 'extend', text('no.such.point'))), 'FO_EXTENSION_UNKNOWN_POINT');
    });

    it('makes an HTTP request with a header, following a redirect, reads the response headers; a host outside allowed_hosts is FO_ABI_HOST_DENIED', async () => {
      const f = await setup();
      const response = (await json(f.registry, 'fetch', text(`${server.origin}/redirect?to=/hello`))) as { status: number; url: string; body: string; x_test: string; header_count: number };
      assert.deepEqual([response.status, response.url, response.body, response.x_test], [200, `${server.origin}/hello`, 'hello', 'yes']);
      assert.ok(response.header_count >= 2, `headers received: ${response.header_count}`);
      assert.equal(await guestCodeOf(f.registry.call('pdk-guest', 'fetch', text('http://192.0.2.1/'))), 'FO_ABI_HOST_DENIED');
      assert.equal(await guestCodeOf(f.registry.call('pdk-guest', 'fetch', text('ftp://127.0.0.1/'))), 'FO_SYSCALL_HTTP_BAD_URL');
    });

    it('writes valid JSON: escapes, U+FFFD for a lone surrogate and ill-formed input, 64-bit limits, nesting', async () => {
      const f = await setup();
      const raw = read(await f.registry.call('pdk-guest', 'json', Uint8Array.from([0x22, 0x3c, 0xff, 0x0a])));
      assert.equal(
        raw,
        '{"s":"q\\" b\\\\ n\\n t\\t c\\u0001 e\u00e9 \u{1f600} lone\\ufffd.","input":"\\"<\ufffd\\n","neg":-42,"max":18446744073709551615,"min":-9223372036854775808,"half":0.5,"flags":[true,false,null,-1,[],{}]}',
      );
      assert.equal((JSON.parse(raw) as { s: string }).s, 'q" b\\ n\n t\t c\u0001 e\u00e9 \u{1f600} lone\ufffd.');
    });

    it('refuses every misuse of the JSON writer instead of writing invalid JSON: PDK_TOO_LARGE over its limit, PDK_BAD_JSON otherwise', async () => {
      const f = await setup();
      const codes: Record<string, string> = {};
      for (const which of ['l', 'd', 'u', 'k', 'v', 'm', 'n']) codes[which] = await guestCodeOf(f.registry.call('pdk-guest', 'json_misuse', text(which)));
      assert.deepEqual(codes, { l: 'PDK_TOO_LARGE', d: 'PDK_BAD_JSON', u: 'PDK_BAD_JSON', k: 'PDK_BAD_JSON', v: 'PDK_BAD_JSON', m: 'PDK_BAD_JSON', n: 'PDK_BAD_JSON' });
    });

    it('reads JSON back as it was written, and refuses invalid text, ill-formed UTF-8 and nesting past 32 with PDK_BAD_JSON', async () => {
      const f = await setup();
      const doc = '{"a":[1,-2.5,1e3,true,false,null,"\\u00e9\\ud83d\\ude00\\n"],"b":{"c":{}},"d":[]}';
      assert.equal(read(await f.registry.call('pdk-guest', 'parse', text(` ${doc} `))), '{"a":[1,-2.5,1000,true,false,null,"\u00e9\u{1f600}\\n"],"b":{"c":{}},"d":[]}');
      assert.equal(read(await f.registry.call('pdk-guest', 'parse', text(`${'['.repeat(32)}${']'.repeat(32)}`))), `${'['.repeat(32)}${']'.repeat(32)}`, 'depth 32 is accepted');
      // Integers of up to 15 digits take the reader's fast path; longer ones, fractions and exponents parseFloat.
      const numbers = '[0,7,-42,999999999999999,-123456789012345,1234567890123456,12345678901234567890,12.5e1,-0.125,5E-3]';
      assert.deepEqual(JSON.parse(read(await f.registry.call('pdk-guest', 'parse', text(numbers)))), JSON.parse(numbers));
      const bad = ['', '{', '[1,]', '{"a" 1}', '01', '1.', '"\\x"', '"\\ud800"', '"a\nb"', 'nul', '[1] 2', `${'['.repeat(33)}${']'.repeat(33)}`];
      for (const input of bad) {
        const error = await forgeErrorOf(f.registry.call('pdk-guest', 'parse', text(input)));
        assert.equal(error?.details['guestCode'], 'PDK_BAD_JSON', `input ${JSON.stringify(input)}`);
        assert.match(String(error.details['guestMessage']), /at byte \d+$/);
      }
      assert.equal(await guestCodeOf(f.registry.call('pdk-guest', 'parse', Uint8Array.from([0x22, 0xc0, 0xaf, 0x22]))), 'PDK_BAD_JSON', 'an overlong encoding in a string');
    });

    it('hands the input to the function and the output back over many calls without growing past its memory limit', async () => {
      const f = await setup();
      for (let i = 0; i < 300; i++) {
        const input = `round ${i} ${'x'.repeat(i * 37)}`;
        assert.equal(read(await f.registry.call('pdk-guest', 'upper', text(input))), input.toUpperCase());
      }
      assert.equal(read(await f.registry.call('pdk-guest', 'upper', new Uint8Array(0))), '');
      const large = new Uint8Array(4 * 1024 * 1024).fill(0x61);
      for (let i = 0; i < 8; i++) assert.equal((await f.registry.call('pdk-guest', 'upper', large)).length, large.length, `4 MiB round ${i}: collected after each call`);
    });

    it("relays a host refusal with the host's code and message; an ill-formed code is the host's FO_ABI_BAD_ERROR_PAYLOAD; forge.log's limit", async () => {
      const f = await setup();
      const relayed = await forgeErrorOf(f.registry.call('pdk-guest', 'relay_error'));
      assert.equal(relayed?.code, 'FO_ABI_GUEST_ERROR');
      assert.equal(relayed.details['guestCode'], 'FO_SYSCALL_KV_BAD_KEY');
      assert.match(String(relayed.details['guestMessage']), /key/);
      assert.equal((await forgeErrorOf(f.registry.call('pdk-guest', 'bad_code')))?.code, 'FO_ABI_BAD_ERROR_PAYLOAD');
      assert.deepEqual(await json(f.registry, 'log_sizes'), { at_limit: 'ok', over_limit: 'FO_ABI_INPUT_TOO_LARGE' });
    });

    it('turns an AssemblyScript abort into a forge.log record and a trap (FO_ABI_GUEST_TRAP), not an env.abort import', async () => {
      const f = await setup();
      assert.equal(read(await f.registry.call('pdk-guest', 'boom')), 'started 1');
      const trapped = await forgeErrorOf(f.registry.call('pdk-guest', 'boom', text('now')));
      assert.equal(trapped?.code, 'FO_ABI_GUEST_TRAP');
      assert.ok(
        f.records.some((record) => /^abort: boom: now at .*wrappers\.ts:\d+:\d+$/.test(record.message)),
        `the abort's message reached the host log; found ${JSON.stringify(f.records.map((record) => record.message).filter((m) => m.startsWith('abort')))}`,
      );
    });
  });
}
