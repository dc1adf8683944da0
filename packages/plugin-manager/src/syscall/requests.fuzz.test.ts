/**
 * Fuzz: forge.* request decoding, through a real guest (the relay plugin) and the real
 * host functions under a real policy. Arbitrary bytes, and valid requests with bytes
 * changed, inserted, removed or cut, sent to every forge.* call, either succeed or come
 * back to the guest as a catalogued error code (FO_ABI_BAD_REQUEST, a denial, a limit),
 * never FO_INTERNAL_UNEXPECTED (an exception the host did not expect); and the plugin
 * keeps working afterwards.
 * Seeded: see docs/fuzzing.md for FORGE_FUZZ_SEED / FORGE_FUZZ_RUNS.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isErrorCode } from '@forgeone/common';
import { runFuzz } from '@forgeone/common/testing';
import fc from 'fast-check';
import { FORGE_HOST_FUNCTION_NAMES } from './forge-host.js';
import { bytes, emitEvent, fileWrite, httpRequest, kvList, kvSet, relayPlugin, u32, type TestPlugin } from './test-support/plugin.js';

const VALID: Readonly<Record<string, Uint8Array>> = {
  log: new Uint8Array([2, ...bytes('hello')]),
  config_get: bytes('region'),
  kv_get: bytes('user/a'),
  kv_set: kvSet('user/a', 'v'),
  kv_delete: bytes('user/a'),
  kv_list: kvList('user/', 3),
  http_request: httpRequest({ url: 'https://api.example.com/v1', headers: [['x-a', 'b']], body: 'x' }),
  file_read: bytes('/data/x'),
  file_write: fileWrite('/data/x', 'v'),
  emit_event: emitEvent('job.done', '{}'),
  time_now: new Uint8Array(0),
  random_get: u32(16),
};

let dir = '';
let plugin: TestPlugin;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'forge-requests-fuzz-'));
  plugin = await relayPlugin(
    { kvDirectory: join(dir, 'kv'), config: { region: 'eu' }, events: () => undefined },
    // Everything the manifest may ask for except the network and volumes: their requests are decoded, then denied.
    { ceiling: { syscalls: ['forge.*'] } },
  );
});
after(() => rmSync(dir, { recursive: true, force: true }));

type Edit = { kind: 'set' | 'insert' | 'remove' | 'cut'; at: number; byte: number };
const edit: fc.Arbitrary<Edit> = fc.record({
  kind: fc.constantFrom('set', 'insert', 'remove', 'cut'),
  at: fc.nat(),
  byte: fc.oneof(fc.nat(255), fc.constantFrom(0x00, 0xff, 0x80, 0xc0, 0xed, 0x2f, 0x2e, 0x0a)),
});

function apply(request: Uint8Array, edits: readonly Edit[]): Uint8Array {
  const out = [...request];
  for (const { kind, at, byte } of edits) {
    const where = at % (out.length + 1);
    if (kind === 'set' && where < out.length) out[where] = byte;
    else if (kind === 'insert') out.splice(where, 0, byte);
    else if (kind === 'remove') out.splice(where, 1);
    else if (kind === 'cut') out.splice(where);
  }
  return Uint8Array.from(out);
}

/** Sends one request; the answer must be success or a catalogued code other than FO_INTERNAL_UNEXPECTED. */
function send(name: string, request: Uint8Array): void {
  const { code, message } = plugin.failure(name, request);
  assert.ok(code === 'ok' || isErrorCode(code), `forge.${name} answered ${code}, which is not in the catalog: ${message}`);
  assert.notEqual(code, 'FO_INTERNAL_UNEXPECTED', `forge.${name} failed unexpectedly: ${message}`);
}

describe('forge.* request fuzz: every request is answered or refused with a catalogued code', () => {
  it('covers every forge.* call', () => {
    assert.deepEqual(Object.keys(VALID).sort(), [...FORGE_HOST_FUNCTION_NAMES].sort());
    // The valid requests are what the mutations start from; the local ones succeed.
    for (const name of ['log', 'config_get', 'kv_set', 'kv_get', 'kv_list', 'kv_delete', 'emit_event', 'time_now', 'random_get']) {
      assert.equal(plugin.code(name, VALID[name]), 'ok', name);
    }
  });

  it('arbitrary bytes', async () => {
    const prop = fc.property(fc.constantFrom(...Object.keys(VALID)), fc.uint8Array({ maxLength: 64 }), (name, request) => send(name, request));
    await runFuzz('requests.fuzz', 600, (settings) => fc.check(prop, settings), (details) => fc.defaultReportMessage(details));
  });

  it('mutated valid requests', async () => {
    const prop = fc.property(fc.constantFrom(...Object.keys(VALID)), fc.array(edit, { minLength: 1, maxLength: 4 }), (name, edits) => {
      send(name, apply(VALID[name] ?? new Uint8Array(0), edits));
      assert.equal(plugin.code('time_now'), 'ok', 'the plugin still works');
    });
    await runFuzz('requests.fuzz', 1500, (settings) => fc.check(prop, settings), (details) => fc.defaultReportMessage(details));
  });
});
