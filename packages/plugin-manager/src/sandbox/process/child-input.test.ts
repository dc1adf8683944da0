import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { throwsCode } from '@forgeone/common/testing';
import { explicitHosts, resolveHostCallLimits } from '../../syscall/index.js';
import { MAX_TRACED_HOST_CALLS } from '../spec.js';
import { MAX_JOB_ERROR_DETAILS, MAX_JOB_ERROR_MESSAGE, checkHop, checkJobError, checkTelemetry, checkTrace, type SandboxPlugins } from './child-input.js';
import { jsonBytes } from './wire.js';

const HOSTED = 'plugin-a';
const REGISTERED = 'forge.weather';

/** A sandbox hosting plugin-a only, whose host decides forge.http_request and forge.weather; plugin-a keeps 100 allowed records a call and its fuel pays for 10^6 host calls. */
const plugins: SandboxPlugins = {
  has: (id) => id === HOSTED,
  decidedByHost: (id, call) => id === HOSTED && (call === 'forge.http_request' || call === REGISTERED),
  folding: (id) => (id === HOSTED ? { kept: 100, calls: 1_000_000 } : undefined),
};

const audit = (action: string, allowed: boolean, plugin = HOSTED): unknown => ({ kind: 'audit', plugin, entry: { plugin, action, resource: 'r', allowed, reason: 'why' } });
const telemetry = (items: unknown): ReturnType<typeof checkTelemetry> => checkTelemetry(jsonBytes(items), plugins);
const violates = (run: () => unknown, what: string): void => void throwsCode(run, 'FO_SANDBOX_PROTOCOL_VIOLATION', what);

describe('process sandbox input: telemetry', () => {
  it('takes well-formed items of a plugin the sandbox hosts', () => {
    const items = telemetry([
      audit('forge.kv_get', true),
      { kind: 'log', plugin: HOSTED, record: { level: 'info', message: 'm', fields: { a: 1 }, time: 1 } },
      { kind: 'event', plugin: HOSTED, event: { name: 'e', payload: new Uint8Array([1]), time: 2 } },
      { kind: 'anomaly', plugin: HOSTED, anomaly: { kind: 'burst', plugin: HOSTED, call: 'forge.log', detail: 'd', at: 3 } },
      { kind: 'counts', plugin: HOSTED, counts: [{ call: 'forge.log', allowed: 2, denied: 1 }] },
    ]);
    assert.deepEqual(
      items.map((item) => item.kind),
      ['audit', 'log', 'event', 'anomaly', 'counts'],
    );
  });

  it("takes the data of an audit.folded summary only, held to what the audit log accepts, so a sandbox cannot make the host's log refuse a record", () => {
    const folded = (data: unknown, action = 'audit.folded'): unknown => ({ kind: 'audit', plugin: HOSTED, entry: { plugin: HOSTED, action, resource: 'work', allowed: true, reason: 'r', data } });
    const data = { call: 'work', kept: 1000, folded: 4000, counts: '[["forge.time_now",null,4000]]', other: 0, flag: true, none: null };
    const [item] = telemetry([folded(data)]);
    assert.deepEqual(item?.kind === 'audit' ? item.entry.data : undefined, data);
    violates(() => telemetry([folded(data, 'forge.kv_get')]), 'data on another action');
    violates(() => telemetry([folded({ 'forge.time_now': 1 })]), 'a key the log refuses');
    violates(() => telemetry([folded(Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i])))]), '33 keys');
    violates(() => telemetry([folded({ counts: { nested: 1 } })]), 'an object value');
    violates(() => telemetry([folded({ counts: 'x'.repeat(1025) })]), 'a string past 1024');
    violates(() => telemetry([folded([1, 2])]), 'an array');
  });

  it("takes a folding call's running counts only as the plugin's spec allows them: its limit, counts that add up, no more calls than its fuel pays for, bounded texts", () => {
    const progress = { call: 'work', kept: 100, folded: 900, counts: [['forge.time_now', null, 600], ['wasi_snapshot_preview1.path_open', '/data/a', 200]], other: 100 };
    const fold = (value: unknown, plugin = HOSTED): unknown => ({ kind: 'fold', plugin, progress: value });
    const [item] = telemetry([fold(progress)]);
    assert.deepEqual(item, { kind: 'fold', plugin: HOSTED, progress });
    violates(() => telemetry([fold(progress, 'plugin-b')]), 'a plugin the sandbox does not host');
    const one = { ...plugins, folding: () => undefined };
    throwsCode(() => checkTelemetry(jsonBytes([fold(progress)]), one), 'FO_SANDBOX_PROTOCOL_VIOLATION', 'a plugin that folds no records');
    violates(() => telemetry([fold({ ...progress, kept: 1000 })]), 'a limit other than the spec’s');
    violates(() => telemetry([fold({ ...progress, folded: 901 })]), 'counts that do not add up');
    violates(() => telemetry([fold({ ...progress, folded: 1_000_001, other: 1_000_001 - 800 })]), 'more folded calls than the fuel pays for');
    violates(() => telemetry([fold({ ...progress, folded: 2 ** 60, other: 2 ** 60 - 800 })]), 'a huge count');
    violates(() => telemetry([fold({ ...progress, folded: 0, counts: [], other: 0 })]), 'nothing folded');
    violates(() => telemetry([fold({ ...progress, other: -1, folded: 799 })]), 'a negative count');
    violates(() => telemetry([fold({ ...progress, counts: [...progress.counts, ['x', 'y', 0.5]], folded: 900.5 })]), 'a fractional count');
    violates(() => telemetry([fold({ ...progress, counts: Array.from({ length: 33 }, (_, i) => [`a${i}`, null, 1]), other: 0, folded: 33 })]), '33 keys');
    violates(() => telemetry([fold({ ...progress, counts: [['forge.time_now', 'r'.repeat(121), 800]] })]), 'a resource past 120 characters');
    violates(() => telemetry([fold({ ...progress, counts: [['a'.repeat(257), null, 800]] })]), 'an action past 256 characters');
    violates(() => telemetry([fold({ ...progress, call: 'c'.repeat(257) })]), 'a call name past 256 characters');
    violates(() => telemetry([fold({ ...progress, counts: [{ action: 'forge.time_now', count: 800 }] })]), 'an entry that is not a triple');
    violates(() => telemetry([fold('900')]), 'not an object');
  });

  it('refuses an item naming a plugin the sandbox does not host, whatever its kind', () => {
    const error = throwsCode(() => telemetry([audit('forge.kv_get', false, 'plugin-b')]), 'FO_SANDBOX_PROTOCOL_VIOLATION');
    assert.equal(error.details['plugin'], 'plugin-b');
    violates(() => telemetry([{ kind: 'log', plugin: 'plugin-b', record: { level: 'info', message: 'm', time: 1 } }]), 'a log');
    // The entry inside names another plugin: the host records it under the item's plugin, never the inner one.
    const [item] = telemetry([{ kind: 'audit', plugin: HOSTED, entry: { plugin: 'plugin-b', action: 'forge.kv_get', allowed: false, reason: 'x' } }]);
    assert.equal(item?.kind === 'audit' ? item.entry.plugin : undefined, HOSTED);
    violates(() => telemetry([{ kind: 'log', record: {} }]), 'no plugin');
  });

  it('refuses bad kinds, bad fields, oversize strings, a non-array and more than 4096 items', () => {
    violates(() => telemetry([{ kind: 'exec', plugin: HOSTED }]), 'unknown kind');
    violates(() => telemetry([{ kind: '__proto__', plugin: HOSTED }]), 'prototype kind');
    violates(() => telemetry({ 0: audit('x', false), length: 1 }), 'an array-like object');
    violates(() => telemetry('audit'), 'a string');
    violates(() => telemetry(null), 'null');
    violates(() => telemetry([null]), 'a null item');
    violates(() => telemetry([[HOSTED]]), 'an array item');
    violates(() => telemetry(Array.from({ length: 4097 }, () => audit('forge.kv_get', false))), '4097 items');
    assert.equal(telemetry(Array.from({ length: 4096 }, () => audit('forge.kv_get', false))).length, 4096, '4096 items are taken');
    violates(() => telemetry([{ kind: 'audit', plugin: HOSTED, entry: { action: 'a', allowed: false, reason: 'x'.repeat(64 * 1024 + 1) } }]), 'a 64 KiB + 1 reason');
    violates(() => telemetry([{ kind: 'audit', plugin: HOSTED, entry: { action: 'a'.repeat(257), allowed: false, reason: 'x' } }]), 'a long action');
    violates(() => telemetry([{ kind: 'audit', plugin: HOSTED, entry: { action: 'a', allowed: 'yes', reason: 'x' } }]), 'allowed not a boolean');
    violates(() => telemetry([{ kind: 'audit', plugin: 'p'.repeat(1025), entry: {} }]), 'a long plugin id');
    violates(() => telemetry([{ kind: 'log', plugin: HOSTED, record: { level: 'silent', message: 'm', time: 1 } }]), 'level silent');
    violates(() => telemetry([{ kind: 'log', plugin: HOSTED, record: { level: 'info', message: 'm', time: Number.NaN } }]), 'NaN time');
    violates(() => telemetry([{ kind: 'log', plugin: HOSTED, record: { level: 'info', message: 'm', fields: [1], time: 1 } }]), 'fields an array');
    violates(() => telemetry([{ kind: 'event', plugin: HOSTED, event: { name: 'e', payload: 'text', time: 1 } }]), 'a payload not bytes');
    violates(() => telemetry([{ kind: 'counts', plugin: HOSTED, counts: [{ call: 'forge.log', allowed: -1, denied: 0 }] }]), 'a negative count');
    violates(() => telemetry([{ kind: 'counts', plugin: HOSTED, counts: [{ call: 'forge.log', allowed: 1.5, denied: 0 }] }]), 'a fractional count');
    violates(() => telemetry([{ kind: 'counts', plugin: HOSTED, counts: Array.from({ length: 1025 }, () => ({ call: 'c', allowed: 0, denied: 0 })) }]), '1025 counts');
  });

  it('drops the sandbox’s allowed audit entries for calls the host decides, and keeps its denials', () => {
    const items = telemetry([audit('forge.http_request', true), audit(REGISTERED, true), audit('forge.http_request', false), audit(REGISTERED, false), audit('forge.kv_get', true)]);
    assert.deepEqual(
      items.map((item) => (item.kind === 'audit' ? [item.entry.action, item.entry.allowed] : item.kind)),
      [
        ['forge.http_request', false],
        [REGISTERED, false],
        ['forge.kv_get', true],
      ],
    );
  });

  it('drops the sandbox’s counts for calls the host decides', () => {
    const items = telemetry([
      {
        kind: 'counts',
        plugin: HOSTED,
        counts: [
          { call: 'forge.http_request', allowed: 1000, denied: 0 },
          { call: REGISTERED, allowed: 1000, denied: 0 },
          { call: 'forge.log', allowed: 3, denied: 0 },
        ],
      },
      { kind: 'counts', plugin: HOSTED, counts: [{ call: 'forge.http_request', allowed: 5, denied: 5 }] },
    ]);
    assert.deepEqual(items, [{ kind: 'counts', plugin: HOSTED, counts: [{ call: 'forge.log', allowed: 3, denied: 0 }] }]);
  });
});

describe('process sandbox input: traces', () => {
  const record = { call: 'forge.log', decision: 'allow', resourceKind: 'none', start: 1, end: 2 };

  it('takes at most the traced calls a call may record, each well formed', () => {
    assert.equal(checkTrace(jsonBytes({ records: Array.from({ length: MAX_TRACED_HOST_CALLS }, () => record), dropped: 7 })).records.length, MAX_TRACED_HOST_CALLS);
    violates(() => checkTrace(jsonBytes({ records: Array.from({ length: MAX_TRACED_HOST_CALLS + 1 }, () => record), dropped: 0 })), 'one record too many');
    violates(() => checkTrace(jsonBytes({ records: [{ ...record, decision: 'maybe' }], dropped: 0 })), 'a decision');
    violates(() => checkTrace(jsonBytes({ records: [{ ...record, call: 'c'.repeat(257) }], dropped: 0 })), 'a long call');
    violates(() => checkTrace(jsonBytes({ records: [record], dropped: -1 })), 'a negative dropped');
    violates(() => checkTrace(jsonBytes({ records: [{ ...record, end: 'later' }], dropped: 0 })), 'an end not a number');
    violates(() => checkTrace(jsonBytes([record])), 'not an object');
  });
});

describe('process sandbox input: HTTP hops', () => {
  const limits = resolveHostCallLimits({ http: { maxRequestBodyBytes: 16, maxResponseBytes: 1234, defaultTimeoutMs: 1000, maxTimeoutMs: 2000 } }).http;
  const none = explicitHosts([]);
  const hop = (fields: Record<string, unknown> = {}): Uint8Array =>
    jsonBytes({ method: 'GET', url: 'https://example.com/x', headers: [['accept', 'text/plain']], body: new Uint8Array(0), timeoutMs: 1000, redirectsFollowed: false, ...fields });

  it('rebuilds the hop with the host’s response cap and reachability, never the sandbox’s', () => {
    const { hop: checked, url } = checkHop(hop({ allowNonPublic: true, maxResponseBytes: 2 ** 40, url: 'http://127.0.0.1:8080/admin' }), limits, none);
    assert.equal(checked.allowNonPublic, false, 'the child’s allowNonPublic: true does not survive');
    assert.equal(checked.maxResponseBytes, 1234);
    assert.equal(url.href, 'http://127.0.0.1:8080/admin');
    const granted = checkHop(hop({ allowNonPublic: false, url: 'http://127.0.0.1:8080/' }), limits, explicitHosts(['127.0.0.1:8080'])).hop;
    assert.equal(granted.allowNonPublic, true, 'an operator grant of the exact host and port');
    assert.equal(checkHop(hop({ url: 'http://127.0.0.1:8081/' }), limits, explicitHosts(['127.0.0.1:8080'])).hop.allowNonPublic, false, 'another port is not granted');
  });

  it('caps the timeout at the plugin’s limit and refuses a non-positive one', () => {
    assert.equal(checkHop(hop({ timeoutMs: 10 ** 9 }), limits, none).hop.timeoutMs, 2000);
    assert.equal(checkHop(hop({ timeoutMs: 500 }), limits, none).hop.timeoutMs, 500);
    violates(() => checkHop(hop({ timeoutMs: 0 }), limits, none), 'zero');
    violates(() => checkHop(hop({ timeoutMs: -5 }), limits, none), 'negative');
    violates(() => checkHop(hop({ timeoutMs: '1000' }), limits, none), 'a string');
  });

  it('refuses forbidden headers, CR/LF/NUL in values and names that are not tokens', () => {
    for (const name of ['Host', 'host', 'HOST', 'Content-Length', 'Transfer-Encoding', 'Connection']) violates(() => checkHop(hop({ headers: [[name, 'x']] }), limits, none), name);
    for (const value of ['a\r\nX-Injected: 1', 'a\nb', 'a\rb', 'a\0b']) violates(() => checkHop(hop({ headers: [['x-ok', value]] }), limits, none), JSON.stringify(value));
    for (const name of ['x y', 'x:y', '', 'x\r\n']) violates(() => checkHop(hop({ headers: [[name, 'v']] }), limits, none), JSON.stringify(name));
    violates(() => checkHop(hop({ headers: [['x-a', 'v', 'extra']] }), limits, none), 'a triple');
  });

  it('holds a hop to the header limits a plugin’s own request is held to (64 headers, 8192 printable ASCII characters a value)', () => {
    assert.equal(checkHop(hop({ headers: Array.from({ length: 64 }, () => ['x-a', 'v'.repeat(8192)]) }), limits, none).hop.headers.length, 64);
    violates(() => checkHop(hop({ headers: Array.from({ length: 65 }, () => ['x-a', 'v']) }), limits, none), '65 headers');
    violates(() => checkHop(hop({ headers: [['x-a', 'v'.repeat(8193)]] }), limits, none), 'a value of 8193 characters');
    for (const value of ['a\x01b', 'a\x7fb', 'caf\u00e9', '\u2028']) violates(() => checkHop(hop({ headers: [['x-a', value]] }), limits, none), JSON.stringify(value));
    assert.deepEqual(checkHop(hop({ headers: [['x-a', 'a\tb ~']] }), limits, none).hop.headers, [['x-a', 'a\tb ~']], 'tabs and spaces are printable');
    assert.deepEqual(checkHop(hop({ headers: [['X-Trace', 'abc']] }), limits, none).hop.headers, [['X-Trace', 'abc']]);
  });

  it('refuses a body over the plugin’s maxRequestBodyBytes, or not bytes', () => {
    assert.equal(checkHop(hop({ method: 'POST', body: new Uint8Array(16) }), limits, none).hop.body.length, 16);
    violates(() => checkHop(hop({ method: 'POST', body: new Uint8Array(17) }), limits, none), '17 bytes');
    violates(() => checkHop(hop({ method: 'POST', body: 'text' }), limits, none), 'a string body');
  });

  it('refuses other protocols, relative URLs and methods plugins may not use', () => {
    for (const url of ['file:///etc/passwd', 'ftp://example.com/', 'data:text/plain,x', 'javascript:alert(1)', 'ws://example.com/', '/relative', 'example.com']) violates(() => checkHop(hop({ url }), limits, none), url);
    for (const method of ['CONNECT', 'TRACE', 'get', 'GET ', 'PROPFIND', '']) violates(() => checkHop(hop({ method }), limits, none), JSON.stringify(method));
    violates(() => checkHop(hop({ redirectsFollowed: 'yes' }), limits, none), 'redirectsFollowed');
  });
});

describe('process sandbox input: the error a job ended with', () => {
  const checked = (value: unknown): Record<string, unknown> => JSON.parse(new TextDecoder().decode(checkJobError(jsonBytes(value)))) as Record<string, unknown>;

  it('keeps a catalog code, its message and small details', () => {
    assert.deepEqual(checked({ code: 'FO_ABI_GUEST_TRAP', kind: 'internal', message: 'unreachable', details: { export: 'run' } }), { code: 'FO_ABI_GUEST_TRAP', message: 'unreachable', details: { export: 'run' } });
  });

  it('cuts a long message and drops large details, so logs and audit reasons stay bounded', () => {
    const long = checked({ code: 'FO_ABI_GUEST_TRAP', message: 'x'.repeat(1024 * 1024), details: { blob: 'y'.repeat(MAX_JOB_ERROR_DETAILS) } });
    assert.equal((long['message'] as string).length, MAX_JOB_ERROR_MESSAGE + '... (cut by the host)'.length);
    assert.equal(long['details'], undefined);
  });

  it('refuses what is not an error, a code outside the catalog, and codes only the host decides', () => {
    for (const [value, found] of [
      [[1, 2], /expected an object/],
      [{ code: 'FO_MADE_UP', message: 'x' }, /catalog error code/],
      [{ code: 42 }, /catalog error code/],
      [{ code: 'FO_SANDBOX_MEMORY_LIMIT', message: 'blame the host' }, /for the host to decide/],
      [{ code: 'FO_SANDBOX_PROTOCOL_VIOLATION', message: 'blame a neighbour' }, /for the host to decide/],
      [{ code: 'FO_ABI_GUEST_TRAP', details: 'not an object' }, /details: expected an object/],
    ] as const) {
      assert.match(throwsCode(() => checkJobError(jsonBytes(value)), 'FO_SANDBOX_PROTOCOL_VIOLATION').message, found);
    }
    assert.match(throwsCode(() => checkJobError(new TextEncoder().encode('{not json')), 'FO_SANDBOX_PROTOCOL_VIOLATION').message, /./);
  });
});
