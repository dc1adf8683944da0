import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { codeOf } from '@forgeone/common/testing';
import { testDaemon, type TestDaemon, type TestDaemonOptions } from '../../test-support/daemon.js';
import { sayInput, signedChatty } from '../../test-support/signed-plugin.js';
import { eventually, ndjsonLines, openStream, stalledClient } from '../../test-support/stream-reader.js';
import { call, send, type DaemonTarget } from '../client.js';

const running: TestDaemon[] = [];
after(async () => {
  for (const daemon of running) await daemon.close();
});

/** A daemon with chatty installed and running, and a viewer token. */
async function daemonWithChatty(options: TestDaemonOptions = {}): Promise<{ d: TestDaemon; viewer: DaemonTarget }> {
  const d = await testDaemon(options);
  running.push(d);
  await call(d.socket, { method: 'POST', path: '/v1/plugins?start=true', bytes: await signedChatty(d.dir) });
  return { d, viewer: d.tcp(d.daemon.services.tokens.create('viewer', 'viewer').token) };
}

async function say(d: TestDaemon, text: string): Promise<void> {
  const response = await send(d.socket, { method: 'POST', path: '/v1/plugins/chatty/call/say', bytes: sayInput(text) });
  assert.equal(response.status, 200, response.body.toString());
}

type Line = { plugin: string; level: string; message: string; fields: Record<string, unknown> };

describe('GET /v1/plugins/:name/logs', () => {
  it('answers the newest records as NDJSON, oldest first, a plugin\'s newline staying inside its JSON string', async () => {
    const { d, viewer } = await daemonWithChatty();
    for (const text of ['one', 'two', 'three\n{"plugin":"forged","message":"injected"}']) await say(d, text);
    const response = await send(viewer, { method: 'GET', path: '/v1/plugins/chatty/logs?limit=2' });
    assert.equal(response.status, 200);
    assert.equal(response.contentType, 'application/x-ndjson');
    const lines = ndjsonLines(response.body.toString('utf8')) as Line[];
    assert.deepEqual(
      lines.map((line) => [line.plugin, line.level, line.message]),
      [
        ['chatty', 'info', 'two'],
        ['chatty', 'info', 'three\n{"plugin":"forged","message":"injected"}'],
      ],
    );
    const all = ndjsonLines((await send(viewer, { method: 'GET', path: '/v1/plugins/chatty/logs' })).body.toString('utf8')) as Line[];
    assert.deepEqual(
      all.map((line) => line.message),
      ['one', 'two', 'three\n{"plugin":"forged","message":"injected"}'],
    );
  });

  it('follows: sends each new record as it is written, and unsubscribes once the client goes away', async () => {
    const { d, viewer } = await daemonWithChatty();
    await say(d, 'before');
    const stream = await openStream(viewer, '/v1/plugins/chatty/logs?follow=true&limit=1');
    assert.deepEqual([stream.status, stream.contentType], [200, 'application/x-ndjson']);
    assert.equal(d.daemon.services.logs.subscribers, 1);
    await say(d, 'live line');
    const text = await stream.until((received) => received.includes('live line'), 'the new record');
    assert.deepEqual(
      (ndjsonLines(text) as Line[]).map((line) => line.message),
      ['before', 'live line'],
    );
    stream.close();
    await eventually(() => d.daemon.services.logs.subscribers === 0 && d.daemon.services.streams.size === 0, 'the follow to be dropped');
    assert.deepEqual(await call(d.socket, { method: 'GET', path: '/v1/health' }), { status: 'ok' });
  });

  it('keeps a quiet follow alive with a {} line every heartbeat', async () => {
    const { viewer } = await daemonWithChatty({ streams: { heartbeatMs: 20 } });
    const stream = await openStream(viewer, '/v1/plugins/chatty/logs?follow=true');
    const text = await stream.until((received) => received.split('\n').length > 2, 'two keep-alive lines');
    assert.deepEqual(ndjsonLines(text).slice(0, 2), [{}, {}]);
    stream.close();
  });

  it('refuses a plugin that is not installed (FO_STORE_NOT_INSTALLED, 404) before opening a stream, and a limit out of range', async () => {
    const { d, viewer } = await daemonWithChatty();
    const missing = await send(viewer, { method: 'GET', path: '/v1/plugins/nobody/logs?follow=true' });
    assert.equal(missing.status, 404);
    assert.equal(await codeOf(call(viewer, { method: 'GET', path: '/v1/plugins/nobody/logs?follow=true' })), 'FO_STORE_NOT_INSTALLED');
    assert.equal(d.daemon.services.streams.size, 0);
    assert.equal(await codeOf(call(viewer, { method: 'GET', path: '/v1/plugins/chatty/logs?limit=10001' })), 'FO_DAEMON_BAD_REQUEST');
    assert.equal(await codeOf(call(d.tcp(), { method: 'GET', path: '/v1/plugins/chatty/logs' })), 'FO_DAEMON_UNAUTHENTICATED');
  });

  it('ends the follow of a client that stops reading once 4 MiB wait for it, with the error body as the last line, and keeps serving', async () => {
    const { d } = await daemonWithChatty();
    const stalled = stalledClient(d.daemon.socket, '/v1/plugins/chatty/logs?follow=true&limit=0');
    await eventually(() => d.daemon.services.logs.subscribers === 1, 'the follow to start');
    const big = 'x'.repeat(16_000);
    // forge.log allows bursts of 1,000 records: 4 MiB of 16 kB records is about 260, plus what the socket buffers hold.
    for (let sent = 0; d.daemon.services.streams.size > 0; sent += 1) {
      assert.ok(sent < 900, 'the stream should have overflowed by now');
      await say(d, big);
    }
    assert.equal(d.daemon.services.logs.subscribers, 0);
    const text = await stalled.resume();
    const body = text.slice(text.indexOf('\r\n\r\n') + 4);
    const last = /\{"error":\{[^\n]*\}\}\n/.exec(body);
    assert.ok(last !== null, `no error line in the stream's end: ${body.slice(-300)}`);
    const { error } = JSON.parse(last[0]) as { error: { code: string; details: { queued: number; queuedBytes: number } } };
    assert.equal(error.code, 'FO_DAEMON_STREAM_OVERFLOW');
    assert.ok(error.details.queuedBytes > 4 * 1024 * 1024 && error.details.queued < 1000, `the byte bound ended it: ${JSON.stringify(error.details)}`);
    assert.match(body.slice(last.index + last[0].length), /^\r\n(?:0\r\n\r\n)?$/, 'nothing follows the error line but the end of the chunked body');
    assert.deepEqual(await call(d.socket, { method: 'GET', path: '/v1/health' }), { status: 'ok' });
  });
});
