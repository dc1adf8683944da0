/**
 * The Rust PDK's wrappers against the real host: pdk/rust/tests/wrappers.rs, compiled
 * with rustc against pdk/rust (pdk/rust/build.mjs), signed and loaded into a registry with
 * every permission its calls need, exercises each forge.* wrapper allowed and then
 * denied by operator policy, the JSON writer and parser, input ownership, the error relay
 * and panics; each answer is checked against what the host did.
 */
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { LogRecord } from '@forgeone/common';
import { forgeErrorOf } from '@forgeone/common/testing';
import { guestCodeOf } from '../abi/test-support/guest-code.js';
import { PluginState } from '../lifecycle/index.js';
import { startTestServer, type TestServer } from '../syscall/test-support/http-server.js';
import { guestJson, pdkGuestToml, startPdkGuest, type PdkGuest } from './test-support/pdk-guest.js';
import { read, text } from './test-support/plugins.js';
import { REPO, requireRust, runBuild, rustDir } from './test-support/rust.js';
import { until } from './test-support/until.js';

const TOML = pdkGuestToml(['init = "plugin_init"', 'start = "plugin_start"']);

let server: TestServer;
const dir = rustDir();
before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

let wasm: Buffer | undefined;

/** The guest module, built once; skipped (failed under CI) without rustc for wasm32-wasi. */
function guestWasm(t: TestContext): Buffer | undefined {
  if (!requireRust(t, dir)) return undefined;
  const output = join(dir, 'wrappers.wasm');
  wasm ??= runBuild(join(REPO, 'pdk/rust/build.mjs'), [join(REPO, 'pdk/rust/tests/wrappers.rs'), output], output);
  return wasm;
}

/** A registry with lib (the WAT test guest, for call_plugin) and the Rust guest, started. */
function guestRegistry(backend: 'inline' | 'pool' | 'process', bytes: Buffer, config = '', records: LogRecord[] = []): Promise<PdkGuest> {
  return startPdkGuest(backend, bytes, TOML, { config, records });
}

type Fixture = PdkGuest;

const EVERY = ['log', 'config_get', 'kv_set', 'kv_get', 'kv_delete', 'kv_list', 'http_request', 'file_write', 'file_read', 'emit_event', 'time_now', 'random_get', 'call_plugin', 'register_extension'];

for (const backend of ['inline', 'pool', 'process'] as const) {
  describe(`the Rust PDK's wrappers against the host on the ${backend} backend`, () => {
    let fixture: Promise<Fixture> | undefined;
    after(async () => {
      if (fixture !== undefined) await (await fixture).registry.close();
    });

    async function setup(t: TestContext): Promise<Fixture | undefined> {
      const bytes = guestWasm(t);
      if (bytes === undefined) return undefined;
      fixture ??= guestRegistry(backend, bytes).then((guest) => {
        guest.registry.declareExtensionPoint('text.upper');
        return guest;
      });
      return fixture;
    }

    const json = guestJson;

    it('logs from its init step through lifecycle!, and sets, pages through, gets and deletes keys with the kv wrappers', async (t) => {
      const f = await setup(t);
      if (f === undefined) return;
      assert.ok(f.records.some((record) => record.message === 'pdk-guest ready'), `found ${JSON.stringify(f.records.map((record) => record.message))}`);
      assert.deepEqual(await json(f.registry, 'kv'), { pages: [['p/a', 'p/b'], ['p/c']], get: 'ok', value: 'b', delete: 'ok', delete_again: 'ok', removed: [true, false], after: 'FO_SYSCALL_KV_NOT_FOUND' });
    });

    it("reads the operator's config value, and answers FO_SYSCALL_CONFIG_NOT_FOUND for a key without one", async (t) => {
      const f = await setup(t);
      if (f === undefined) return;
      assert.equal(read(await f.registry.call('pdk-guest', 'config', text('greeting'))), 'hello from the operator');
      assert.equal(await guestCodeOf(f.registry.call('pdk-guest', 'config', text('absent'))), 'FO_SYSCALL_CONFIG_NOT_FOUND');
      assert.equal(await guestCodeOf(f.registry.call('pdk-guest', 'config', Uint8Array.from([0xff]))), 'PDK_BAD_UTF8');
    });

    it('reads the clocks and random bytes, and passes on the refusal of 64 KiB + 1 random bytes', async (t) => {
      const f = await setup(t);
      if (f === undefined) return;
      const before = Date.now();
      const first = (await json(f.registry, 'clocks')) as { time: string; wall_ms: number; monotonic_ordered: boolean; random: string; bytes: number[]; fill: string; filled_nonzero: boolean; random_over_limit: string };
      const second = (await json(f.registry, 'clocks')) as typeof first;
      assert.deepEqual([first.time, first.monotonic_ordered, first.random, first.fill, first.filled_nonzero, first.random_over_limit], ['ok', true, 'ok', 'ok', true, 'FO_SYSCALL_PAYLOAD_TOO_LARGE']);
      assert.ok(first.wall_ms >= before - 1000 && first.wall_ms <= Date.now() + 1000, `wall clock ${first.wall_ms} near ${before}`);
      assert.equal(first.bytes.length, 32);
      assert.notDeepEqual(first.bytes, second.bytes, 'two draws of 32 random bytes differ');
    });

    it('writes a file in every mode and reads it back; the refusals come back as codes, and nothing outside the volume is read or written', async (t) => {
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
        dotdot: 'FO_ABI_HOST_DENIED',
      });
      assert.equal(await readFile(join(f.volume, 'out.txt'), 'utf8'), 'hello world');
      await assert.rejects(readFile(join(f.volume, '..', 'escape.txt')), { code: 'ENOENT' });
    });

    it('emits an event the host listeners receive, calls a dependency, and registers an extension the host then invokes', async (t) => {
      const f = await setup(t);
      if (f === undefined) return;
      assert.equal(read(await f.registry.call('pdk-guest', 'event', text('payload-1'))), 'sent');
      assert.deepEqual(f.events, [['pdk-guest', 'pdk.tested', 'payload-1']]);
      assert.equal(read(await f.registry.call('pdk-guest', 'relay', text('through lib'))), 'through lib');
      await f.registry.call('pdk-guest', 'extend', text('text.upper'));
      const results = await f.registry.invokeExtensions('text.upper', text('shout'));
      assert.deepEqual(results.map((result) => [result.plugin, read(result.output ?? new Uint8Array(0)), result.error?.code]), [['pdk-guest', 'SHOUT', undefined]]);
      assert.equal(await guestCodeOf(f.registry.call('pdk-guest', 'extend', text('no.such.point'))), 'FO_EXTENSION_UNKNOWN_POINT');
    });

    it('makes an HTTP request with a header, following a redirect, and reads the response headers', async (t) => {
      const f = await setup(t);
      if (f === undefined) return;
      const response = (await json(f.registry, 'http', text(`${server.origin}/redirect?to=/hello`))) as { status: number; url: string; body: string; headers: Record<string, string>; x_test: string };
      assert.deepEqual([response.status, response.url, response.body, response.headers['x-test'], response.x_test], [200, `${server.origin}/hello`, 'hello', 'yes', 'yes']);
      assert.equal(await guestCodeOf(f.registry.call('pdk-guest', 'http', text('http://192.0.2.1/'))), 'FO_ABI_HOST_DENIED');
    });

    it('writes valid JSON: escapes, 64-bit limits, non-finite floats as null, nesting', async (t) => {
      const f = await setup(t);
      if (f === undefined) return;
      const raw = read(await f.registry.call('pdk-guest', 'json_write', Uint8Array.from([0x22, 0x3c, 0xff, 0x0a])));
      assert.equal(raw, '{"s":"q\\" b\\\\ n\\n t\\t c\\u0001 e\u00e9 \u{1f600} /","input":"\\"<\ufffd\\n","neg":-42,"max":18446744073709551615,"min":-9223372036854775808,"flags":[true,false,null,-1,[],{},null,0.5]}');
      assert.equal((JSON.parse(raw) as { s: string }).s, 'q" b\\ n\n t\t c\u0001 e\u00e9 \u{1f600} /');
      assert.equal(await guestCodeOf(f.registry.call('pdk-guest', 'json_limits', text('d'))), 'PDK_JSON_TOO_DEEP');
      assert.equal(await guestCodeOf(f.registry.call('pdk-guest', 'json_limits', text('l'))), 'PDK_TOO_LARGE');
    });

    it('parses JSON exactly: round trips, duplicate keys as JSON.parse keeps them, and refuses malformed, too deep or non-UTF-8 documents with their codes', async (t) => {
      const f = await setup(t);
      if (f === undefined) return;
      const echo = async (doc: string): Promise<string> => read(await f.registry.call('pdk-guest', 'json_echo', text(doc)));
      assert.equal(await echo(' {"a" : [1, -0, 2.5e3, 1e-2, 18446744073709551615, -9223372036854775808], "b": "\\u00e9\\ud83d\\ude00\\ud800x\\/", "c": {}} '), '{"a":[1,0,2500,0.01,18446744073709551615,-9223372036854775808],"b":"é😀\ufffdx/","c":{}}');
      assert.equal(await echo('{"k":1,"j":2,"k":3}'), '{"k":3,"j":2}');
      assert.equal(await echo(`${'['.repeat(64)}${']'.repeat(64)}`), `${'['.repeat(64)}${']'.repeat(64)}`, 'the depth limit itself is accepted');
      const refused: Record<string, string> = {};
      for (const bad of ['', '{', '[1,]', '{"a":1,}', '01', '1.', '-', '"\u0001"', '"\\x"', 'nul', '[1] 2', "{'a':1}", '1e999', '"\\ud800', `${'['.repeat(65)}${']'.repeat(65)}`]) {
        refused[bad] = await guestCodeOf(f.registry.call('pdk-guest', 'json_echo', text(bad)));
      }
      for (const [doc, code] of Object.entries(refused)) assert.equal(code, doc.startsWith('[[') ? 'PDK_JSON_TOO_DEEP' : 'PDK_BAD_JSON', `document ${JSON.stringify(doc)}`);
      const where = await forgeErrorOf(f.registry.call('pdk-guest', 'json_echo', text('[1, 2 3]')));
      assert.equal(where?.details['guestMessage'], "at byte 6: expected ',' or ']', found '3'");
      assert.equal(await guestCodeOf(f.registry.call('pdk-guest', 'json_echo', Uint8Array.from([0x22, 0xc0, 0xaf, 0x22]))), 'PDK_BAD_JSON');
      // 100 000 nested arrays: refused at the limit, not by exhausting the stack.
      assert.equal(await guestCodeOf(f.registry.call('pdk-guest', 'json_echo', text('['.repeat(100_000)))), 'PDK_JSON_TOO_DEEP');
    });

    it('hands the input back in place, returns new and kept regions, and stays sound over many calls', async (t) => {
      const f = await setup(t);
      if (f === undefined) return;
      for (let i = 0; i < 200; i++) {
        const input = `round ${i} ${'x'.repeat(i * 37)}`;
        assert.equal(read(await f.registry.call('pdk-guest', 'upper', text(input))), input.toUpperCase());
        assert.equal(read(await f.registry.call('pdk-guest', 'tail', text(input))), input.slice(1));
        assert.equal(read(await f.registry.call('pdk-guest', 'constant', text(input))), 'static bytes');
      }
      assert.equal(read(await f.registry.call('pdk-guest', 'upper', new Uint8Array(0))), '');
      assert.equal(await guestCodeOf(f.registry.call('pdk-guest', 'tail', text('x'))), 'E_SHORT');
    });

    it("relays a host refusal with the host's code and message; cuts long messages at a character boundary; an ill-formed code is the host's FO_ABI_BAD_ERROR_PAYLOAD", async (t) => {
      const f = await setup(t);
      if (f === undefined) return;
      const relayed = await forgeErrorOf(f.registry.call('pdk-guest', 'relay_error'));
      assert.equal(relayed?.code, 'FO_ABI_GUEST_ERROR');
      assert.equal(relayed.details['guestCode'], 'FO_SYSCALL_KV_BAD_KEY');
      assert.match(String(relayed.details['guestMessage']), /key/);
      const long = await forgeErrorOf(f.registry.call('pdk-guest', 'long_message'));
      assert.equal(long?.details['guestMessage'], '\u00e9'.repeat(2048), '4096 bytes of two-byte characters');
      assert.equal((await forgeErrorOf(f.registry.call('pdk-guest', 'bad_code')))?.code, 'FO_ABI_BAD_ERROR_PAYLOAD');
      assert.deepEqual(await json(f.registry, 'log_sizes'), { at_limit: 'ok', over_limit: 'FO_ABI_INPUT_TOO_LARGE' });
    });

    it("answers every wrapper when policy allows it, then FO_ABI_HOST_DENIED from every wrapper once the operator's Cedar policy forbids all calls", async (t) => {
      const f = await setup(t);
      if (f === undefined) return;
      const allowed = await json(f.registry, 'every', text(`${server.origin}/hello`));
      assert.deepEqual(allowed, Object.fromEntries(EVERY.map((call) => [call, 'ok'])));
      await f.registry.setPolicy({ ...f.registry.config, policy: { ...f.registry.config.policy, cedar: 'ops.cedar' } }, 'forbid(principal, action, resource);');
      const denied = await json(f.registry, 'every', text(`${server.origin}/hello`));
      assert.deepEqual(denied, Object.fromEntries(EVERY.map((call) => [call, 'FO_ABI_HOST_DENIED'])));
    });
  });

  describe(`a panic in a Rust plugin on the ${backend} backend`, () => {
    it("traps (FO_ABI_GUEST_TRAP, not a hang), sends the panic's message and place to forge.log, and the restarted plugin answers again", async (t) => {
      const bytes = guestWasm(t);
      if (bytes === undefined) return;
      const records: LogRecord[] = [];
      const { registry } = await guestRegistry(backend, bytes, '', records);
      try {
        assert.equal((await forgeErrorOf(registry.call('pdk-guest', 'panic', text('at the door'))))?.code, 'FO_ABI_GUEST_TRAP');
        const panicked = records.find((record) => record.message.startsWith('panicked'));
        assert.match(panicked?.message ?? '', /^panicked at .*wrappers\.rs:\d+: boom: at the door$/);
        await until(() => registry.get('pdk-guest').state === PluginState.Running, 'the restart');
        assert.equal(read(await registry.call('pdk-guest', 'upper', text('back'))), 'BACK');
      } finally {
        await registry.close();
      }
    });

    it('fails a lifecycle step whose function returns Err (FO_ABI_LIFECYCLE_FAILED) and logs its code and message', async (t) => {
      const bytes = guestWasm(t);
      if (bytes === undefined) return;
      const records: LogRecord[] = [];
      const failing = guestRegistry(backend, bytes, '          fail_start: "yes"', records);
      const error = await forgeErrorOf(failing);
      assert.equal(error?.code, 'FO_ABI_LIFECYCLE_FAILED');
      assert.ok(records.some((record) => record.message === 'lifecycle step plugin_start failed: E_START: told to fail'), `found ${JSON.stringify(records.map((record) => record.message))}`);
    });
  });
}
