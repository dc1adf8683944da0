import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfigFile, silentLogger } from '@forgeone/common';
import { codeOf } from '@forgeone/common/testing';
import { otlpReceiver } from '@forgeone/plugin-manager/test-support';
import { signedSample, testDaemon, type TestDaemon, type TestDaemonOptions } from '../test-support/daemon.js';
import { call, send, type DaemonTarget } from './client.js';
import { startDaemon } from './daemon.js';

const running: TestDaemon[] = [];
after(async () => {
  for (const daemon of running) await daemon.close();
});

async function daemon(options: TestDaemonOptions = {}): Promise<TestDaemon> {
  const started = await testDaemon(options);
  running.push(started);
  return started;
}

interface View {
  readonly name: string;
  readonly state: string;
  readonly desired: string;
  readonly publisher: string;
}

describe('forge daemon: the socket and the TCP listener', () => {
  it('serves the socket (mode 0600, directory 0700) to its own user as admin, and health to anyone; its database and audit log are 0600 in 0700', async () => {
    const d = await daemon();
    assert.equal(statSync(d.daemon.socket).mode & 0o777, 0o600);
    assert.equal(statSync(join(d.dir, 'run')).mode & 0o777, 0o700);
    // What the daemon writes besides is private to its user too: its database, the audit log and the log's directory.
    assert.equal(statSync(join(d.dir, 'run', 'daemon.db')).mode & 0o777, 0o600);
    assert.equal(statSync(join(d.dir, 'audit', 'audit.log')).mode & 0o777, 0o600);
    assert.equal(statSync(join(d.dir, 'audit')).mode & 0o777, 0o700);
    assert.deepEqual(await call(d.socket, { method: 'GET', path: '/v1/info' }).then((info) => (info as { principal: string; role: string }).role), 'admin');
    assert.deepEqual(await call(d.tcp(), { method: 'GET', path: '/v1/health' }), { status: 'ok' });
    assert.deepEqual(await call(d.tcp(), { method: 'GET', path: '/v1/ready' }), { status: 'ready' });
  });

  it('refuses every TCP request without a valid token with FO_DAEMON_UNAUTHENTICATED (401), the same for every kind of bad token, and audits each', async () => {
    const d = await daemon();
    const viewer = d.daemon.services.tokens.create('dashboard', 'viewer');
    const revoked = d.daemon.services.tokens.create('old', 'admin');
    d.daemon.services.tokens.revoke(revoked.info.id);
    const expired = d.daemon.services.tokens.create('brief', 'admin', -1);
    const forged = `fo_${viewer.info.id}_${'A'.repeat(43)}`;
    const answers = [];
    for (const token of [undefined, 'nonsense', forged, revoked.token, expired.token, `${viewer.token}x`]) {
      const response = await d.request(d.tcp(token), { method: 'GET', path: '/v1/plugins' });
      answers.push([response.status, (response.json as { error: { code: string } }).error.code]);
    }
    assert.deepEqual(answers, Array.from({ length: 6 }, () => [401, 'FO_DAEMON_UNAUTHENTICATED']));
    const messages = new Set<string>();
    for (const token of ['nonsense', forged, revoked.token, expired.token]) {
      messages.add(((await d.request(d.tcp(token), { method: 'GET', path: '/v1/plugins' })).json as { error: { message: string } }).error.message);
    }
    assert.equal(messages.size, 1, 'a bad token gets one answer whatever is wrong with it');
    assert.equal((await d.request(d.tcp(viewer.token), { method: 'GET', path: '/v1/plugins' })).status, 200);
    const denials = (await d.auditEvents()).filter((record) => record['decision'] === 'deny' && record['action'] === 'api.plugins.list');
    assert.equal(denials.length, 10);
    assert.ok(denials.every((record) => record['principal'] === 'anonymous' && String(record['reason']).startsWith('FO_DAEMON_UNAUTHENTICATED: ')));
    assert.ok(denials.every((record) => (record['data'] as { transport: string }).transport === 'tcp'));
  });

  it('lets each role do what it may and refuses the rest with FO_DAEMON_FORBIDDEN (403), audited with the role needed', async () => {
    const d = await daemon();
    const package_ = await readFile(await signedSample(d.dir));
    const viewer = d.tcp(d.daemon.services.tokens.create('viewer', 'viewer').token);
    const operator = d.tcp(d.daemon.services.tokens.create('operator', 'operator').token);
    const admin = d.tcp(d.daemon.services.tokens.create('admin', 'admin').token);
    assert.equal(await codeOf(call(viewer, { method: 'POST', path: '/v1/plugins', bytes: package_ })), 'FO_DAEMON_FORBIDDEN');
    assert.equal(await codeOf(call(operator, { method: 'POST', path: '/v1/plugins', bytes: package_ })), 'FO_DAEMON_FORBIDDEN');
    await call(admin, { method: 'POST', path: '/v1/plugins', bytes: package_ });
    assert.equal(await codeOf(call(viewer, { method: 'POST', path: '/v1/plugins/sample-plugin/start' })), 'FO_DAEMON_FORBIDDEN');
    assert.equal((await call<View>(operator, { method: 'POST', path: '/v1/plugins/sample-plugin/start' })).state, 'running');
    assert.equal((await call<{ plugins: View[] }>(viewer, { method: 'GET', path: '/v1/plugins' })).plugins[0]?.state, 'running');
    const refusals = (await d.auditEvents()).filter((record) => record['decision'] === 'deny');
    assert.deepEqual(
      refusals.map((record) => [record['action'], record['principal'], String(record['reason']).split(':')[0]]),
      [
        ['api.plugins.install', 'token:viewer', 'FO_DAEMON_FORBIDDEN'],
        ['api.plugins.install', 'token:operator', 'FO_DAEMON_FORBIDDEN'],
        ['api.plugins.start', 'token:viewer', 'FO_DAEMON_FORBIDDEN'],
      ],
    );
    const allowed = (await d.auditEvents()).filter((record) => record['decision'] === 'allow' && String(record['action']).startsWith('api.'));
    assert.deepEqual(
      allowed.map((record) => [record['action'], record['principal'], record['resource']]),
      [
        ['api.plugins.install', 'token:admin', undefined],
        ['api.plugins.start', 'token:operator', 'sample-plugin'],
      ],
      'changes are audited at the default level; reads are not',
    );
  });
});

describe('forge daemon: plugins through the API', () => {
  it('installs an uploaded package, starts it, calls it, and brings it back Running after a restart', async () => {
    const d = await daemon();
    const bytes = await readFile(await signedSample(d.dir));
    const installed = await call<{ action: string; plugin: View }>(d.socket, { method: 'POST', path: '/v1/plugins?start=true', bytes });
    assert.deepEqual([installed.action, installed.plugin.state, installed.plugin.desired, installed.plugin.publisher], ['installed', 'running', 'running', 'ACME Plugins']);
    const greeting = await sendBytes(d.socket, '/v1/plugins/sample-plugin/call/greet', 'ForgeOne');
    assert.match(greeting, /ForgeOne/);
    await call(d.socket, { method: 'POST', path: '/v1/plugins/sample-plugin/pause' });
    await d.close();
    running.splice(running.indexOf(d), 1);
    const again = await testDaemon({ dir: d.dir });
    running.push(again);
    const view = await call<View>(again.socket, { method: 'GET', path: '/v1/plugins/sample-plugin' });
    assert.deepEqual([view.state, view.desired], ['paused', 'paused'], 'the restarted daemon brings the plugin back as it was');
  });

  it('refuses a second daemon on the same state with FO_DAEMON_RUNNING, and leaves the first serving', async () => {
    const d = await daemon();
    const second = startDaemon({ config: await loadConfigFile(join(d.dir, 'plugin-manager.yaml')), configDir: d.dir, logger: silentLogger, version: 'test', socketUser: 'user:x' });
    assert.equal(await codeOf(second), 'FO_DAEMON_RUNNING');
    assert.deepEqual(await call(d.socket, { method: 'GET', path: '/v1/health' }), { status: 'ok' });
  });

  it('stops cleanly: the socket and the lock go, the audit log ends with a checkpoint, and nothing answers any more', async () => {
    const d = await daemon();
    await call(d.socket, { method: 'POST', path: '/v1/plugins', bytes: await readFile(await signedSample(d.dir)) });
    await d.close();
    running.splice(running.indexOf(d), 1);
    assert.equal(existsSync(d.daemon.socket), false);
    assert.equal(existsSync(join(d.dir, 'run', 'daemon.db.lock')), false);
    assert.equal(await codeOf(call(d.socket, { method: 'GET', path: '/v1/health' })), 'FO_DAEMON_NOT_RUNNING');
    const lines = readFileSync(join(d.dir, 'audit', 'audit.log'), 'utf8').trim().split('\n');
    assert.equal((JSON.parse(lines.at(-1) as string) as { type: string }).type, 'checkpoint', 'the log ends with a signed checkpoint');
  });
});

describe('forge daemon: bad input', () => {
  it('answers malformed JSON, a body over the limit, a wrong content type, a bad name and an unknown route each with its own code, and keeps serving', async () => {
    const d = await daemon({ daemonYaml: '    max_request_size: 2KB\n' });
    const target = d.socket;
    const cases: [string, Promise<unknown>][] = [
      ['FO_DAEMON_BAD_REQUEST', d.request(target, { method: 'POST', path: '/v1/plugins', bytes: new Uint8Array(0), headers: { 'content-type': 'application/json' } }).then(codeFrom)],
      ['FO_DAEMON_BODY_TOO_LARGE', d.request(target, { method: 'POST', path: '/v1/plugins', bytes: new Uint8Array(4096) }).then(codeFrom)],
      ['FO_DAEMON_UNSUPPORTED_MEDIA', d.request(target, { method: 'POST', path: '/v1/plugins', bytes: new Uint8Array(10), headers: { 'content-type': 'text/plain' } }).then(codeFrom)],
      ['FO_DAEMON_BAD_REQUEST', d.request(target, { method: 'GET', path: '/v1/plugins/..%2Fetc' }).then(codeFrom)],
      ['FO_DAEMON_BAD_REQUEST', d.request(target, { method: 'POST', path: '/v1/plugins?frobnicate=1', bytes: new Uint8Array(1) }).then(codeFrom)],
      ['FO_DAEMON_NO_ROUTE', d.request(target, { method: 'GET', path: '/v1/nothing-here' }).then(codeFrom)],
      ['FO_DAEMON_BAD_REQUEST', d.request(target, { method: 'POST', path: '/v1/plugins' }).then(codeFrom)],
    ];
    for (const [code, outcome] of cases) assert.equal(await outcome, code);
    assert.deepEqual(await call(target, { method: 'GET', path: '/v1/health' }), { status: 'ok' });
  });
});

function codeFrom(response: { json: unknown; status: number }): string {
  return `${(response.json as { error: { code: string } }).error.code}`;
}

async function sendBytes(target: DaemonTarget, path: string, input: string): Promise<string> {
  const response = await send(target, { method: 'POST', path, bytes: new TextEncoder().encode(input) });
  assert.equal(response.status, 200, response.body.toString());
  return response.body.toString('utf8');
}

describe('forge daemon: metrics and figures', () => {
  it('serves Prometheus metrics on their own listener, and per-plugin figures at /v1/stats, after real calls', async () => {
    const d = await daemon();
    await call(d.socket, { method: 'POST', path: '/v1/plugins?start=true', bytes: await readFile(await signedSample(d.dir)) });
    for (let i = 0; i < 3; i += 1) await sendBytes(d.socket, '/v1/plugins/sample-plugin/call/greet', `n${i}`);
    const metricsUrl = d.daemon.metricsUrl;
    assert.ok(metricsUrl !== undefined && /^http:\/\/127\.0\.0\.1:\d+\/metrics$/.test(metricsUrl), String(metricsUrl));
    const scrape = await fetch(metricsUrl);
    assert.equal(scrape.status, 200);
    const text = await scrape.text();
    assert.match(text, /^forgeone_plugin_calls_total\{plugin="sample-plugin"\} 3$/m);
    assert.match(text, /^forgeone_plugins\{state="running"\} 1$/m);
    assert.equal((await fetch(metricsUrl.replace('/metrics', '/other'))).status, 404, 'nothing but the endpoint');
    const stats = await call<{ plugins: { name: string; calls: number; errors: number; p99Seconds: number | null; memoryBytes: number | null; fuelTotal: number }[] }>(d.socket, {
      method: 'GET',
      path: '/v1/stats',
    });
    const sample = stats.plugins.find((entry) => entry.name === 'sample-plugin');
    assert.deepEqual([sample?.calls, sample?.errors], [3, 0]);
    assert.ok(sample !== undefined && sample.p99Seconds !== null && sample.p99Seconds > 0 && sample.memoryBytes === 65_536 && sample.fuelTotal > 0, JSON.stringify(sample));
  });

  it('opens no metrics listener when metrics are off', async () => {
    const d = await daemon({ telemetryYaml: '    tracing_enabled: false\n    metrics_enabled: false\n' });
    assert.equal(d.daemon.metricsUrl, undefined);
  });
});

describe('forge daemon: traces', () => {
  it('joins a plugin call to the trace named by the API request\'s traceparent, and exports it over OTLP', async () => {
    const receiver = await otlpReceiver();
    try {
      const d = await testDaemon({ telemetryYaml: `    tracing_enabled: true\n    otlp_endpoint: ${receiver.url}\n    prometheus_listen: 127.0.0.1:0\n` });
      await call(d.socket, { method: 'POST', path: '/v1/plugins?start=true', bytes: await readFile(await signedSample(d.dir)) });
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const parent = '00f067aa0ba902b7';
      const response = await send(d.socket, { method: 'POST', path: '/v1/plugins/sample-plugin/call/greet', bytes: new TextEncoder().encode('trace'), headers: { traceparent: `00-${traceId}-${parent}-01` } });
      assert.equal(response.status, 200);
      await d.close();
      const span = receiver.spans.find((candidate) => candidate.name === 'plugin.call');
      assert.ok(span !== undefined, `spans received: ${receiver.spans.map((candidate) => candidate.name).join(', ')}`);
      assert.deepEqual([span.traceId, span.parentSpanId], [traceId, parent]);
      assert.equal(span.attributes['forgeone.plugin'], 'sample-plugin');
    } finally {
      await receiver.close();
    }
  });
});
