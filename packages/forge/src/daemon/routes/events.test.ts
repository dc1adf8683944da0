import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { codeOf } from '@forgeone/common/testing';
import { testDaemon, type TestDaemon, type TestDaemonOptions } from '../../test-support/daemon.js';
import { emitInput, signedChatty } from '../../test-support/signed-plugin.js';
import { eventually, openStream, sseEvents, stalledClient, type SseEvent } from '../../test-support/stream-reader.js';
import { call, send } from '../client.js';
import { sseEvent } from '../events.js';

const running: TestDaemon[] = [];
after(async () => {
  for (const daemon of running) await daemon.close();
});

async function daemon(options: TestDaemonOptions = {}): Promise<TestDaemon> {
  const d = await testDaemon(options);
  running.push(d);
  return d;
}

function parsed(events: readonly SseEvent[], type: string): Record<string, unknown>[] {
  return events.filter((event) => event.event === type).map((event) => JSON.parse(event.data) as Record<string, unknown>);
}

describe('GET /v1/events', () => {
  it('streams the lifecycle of a start, its audit records and a plugin\'s event, each as one JSON data line', async () => {
    const d = await daemon();
    await call(d.socket, { method: 'POST', path: '/v1/plugins', bytes: await signedChatty(d.dir) });
    const viewer = d.tcp(d.daemon.services.tokens.create('watcher', 'viewer').token);
    const operator = d.tcp(d.daemon.services.tokens.create('operator', 'operator').token);
    const stream = await openStream(viewer, '/v1/events');
    assert.deepEqual([stream.status, stream.contentType], [200, 'text/event-stream; charset=utf-8']);
    await call(operator, { method: 'POST', path: '/v1/plugins/chatty/start' });
    const called = await send(operator, { method: 'POST', path: '/v1/plugins/chatty/call/emit', bytes: emitInput('job.done', Buffer.from([0, 1, 2, 255])) });
    assert.equal(called.status, 200, called.body.toString());
    const text = await stream.until((received) => sseEvents(received).some((event) => event.event === 'plugin'), 'the plugin event');
    const events = sseEvents(text);
    assert.deepEqual(
      parsed(events, 'lifecycle').map((event) => [event['plugin'], event['from'], event['to'], event['step']]),
      [
        ['chatty', 'created', 'initializing', 'init'],
        ['chatty', 'initializing', 'ready', 'init'],
        ['chatty', 'ready', 'running', 'start'],
      ],
    );
    const audit = parsed(events, 'audit');
    const start = audit.find((event) => event['action'] === 'api.plugins.start');
    assert.deepEqual(
      [start?.['principal'], start?.['resource'], start?.['decision'], typeof start?.['seq'], typeof start?.['ts']],
      ['token:operator', 'chatty', 'allow', 'number', 'string'],
    );
    assert.ok(
      audit.some((event) => event['action'] === 'forge.emit_event' && event['resource'] === 'event:job.done'),
      'the host call is audited, and its record streamed',
    );
    const seqs = audit.map((event) => event['seq'] as number);
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => a - b),
      'audit events come in log order',
    );
    assert.deepEqual(
      parsed(events, 'plugin').map((event) => [event['plugin'], event['name'], event['payload']]),
      [['chatty', 'job.done', Buffer.from([0, 1, 2, 255]).toString('base64')]],
    );
    const onDisk = (await d.auditEvents()).find((record) => record['action'] === 'api.plugins.start');
    assert.equal(start?.['seq'], onDisk?.['seq'], 'the streamed record is the one in the log');
    stream.close();
    await eventually(() => d.daemon.services.events.clients === 0 && d.daemon.services.streams.size === 0, 'the stream to be dropped');
  });

  it('sends only the types asked for, and refuses an unknown type (FO_DAEMON_BAD_REQUEST)', async () => {
    const d = await daemon();
    await call(d.socket, { method: 'POST', path: '/v1/plugins', bytes: await signedChatty(d.dir) });
    const stream = await openStream(d.socket, '/v1/events?types=plugin');
    await call(d.socket, { method: 'POST', path: '/v1/plugins/chatty/start' });
    await send(d.socket, { method: 'POST', path: '/v1/plugins/chatty/call/emit', bytes: emitInput('ping', new Uint8Array(0)) });
    const text = await stream.until((received) => sseEvents(received).length > 0, 'an event');
    assert.deepEqual(
      sseEvents(text).map((event) => event.event),
      ['plugin'],
      'the start\'s lifecycle and audit events, published first, were not sent',
    );
    stream.close();
    assert.equal(await codeOf(call(d.socket, { method: 'GET', path: '/v1/events?types=lifecycle,secrets' })), 'FO_DAEMON_BAD_REQUEST');
  });

  it('keeps a quiet stream alive with a ": ping" comment every heartbeat', async () => {
    const d = await daemon({ streams: { heartbeatMs: 20 } });
    const stream = await openStream(d.socket, '/v1/events?types=plugin');
    const text = await stream.until((received) => received.startsWith(': ping\n\n: ping\n\n'), 'two pings');
    assert.deepEqual(sseEvents(text), [], 'comments are not events');
    stream.close();
  });

  it('keeps a quiet stream open past daemon.request_timeout, which bounds ordinary requests only', async () => {
    const d = await daemon({ daemonYaml: '    request_timeout: 200ms\n' });
    const viewer = d.tcp(d.daemon.services.tokens.create('watcher', 'viewer').token);
    const stream = await openStream(viewer, '/v1/events?types=audit');
    // Five request timeouts of silence: an idle-timed-out connection would be gone by now.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(d.daemon.services.streams.size, 1);
    await call(d.socket, { method: 'POST', path: '/v1/tokens', json: { name: 'later', role: 'viewer' } });
    const text = await stream.until((received) => received.includes('"action":"api.tokens.create"'), 'the audit event after the silence');
    assert.equal(sseEvents(text)[0]?.event, 'audit');
    stream.close();
  });

  it('ends the stream of a client that falls 1,000 events behind with event: overflow, and keeps serving everyone else', async () => {
    // Every request is audited at level all: each one is an audit event for the stream.
    const d = await daemon({ auditYaml: '    level: all\n' });
    const reader = await openStream(d.socket, '/v1/events?types=plugin');
    const stalled = stalledClient(d.daemon.socket, '/v1/events?types=audit');
    await eventually(() => d.daemon.services.events.clients === 2, 'both streams to start');
    let requests = 0;
    while (d.daemon.services.events.clients === 2) {
      assert.ok(requests < 20_000, 'the stalled stream should have overflowed by now');
      await Promise.all(Array.from({ length: 20 }, () => call(d.socket, { method: 'GET', path: '/v1/info' })));
      requests += 20;
    }
    assert.equal(d.daemon.services.events.clients, 1, 'the reading client is still subscribed');
    const text = await stalled.resume();
    const overflow = /event: overflow\ndata: ([^\n]*)\n\n/.exec(text);
    assert.ok(overflow !== null, `no overflow event at the end: ${text.slice(-300)}`);
    const { error } = JSON.parse(overflow[1] as string) as { error: { code: string; details: { queued: number } } };
    assert.deepEqual([error.code, error.details.queued], ['FO_DAEMON_STREAM_OVERFLOW', 1001], 'the 1,001st waiting event ends it');
    assert.match(text.slice(overflow.index + overflow[0].length), /^\r\n(?:0\r\n\r\n)?$/, 'the overflow event is the last thing sent');
    assert.ok(text.includes('event: audit\n'), 'the client got the events that fit before it fell behind');
    assert.equal(reader.status, 200);
    assert.deepEqual(await call(d.socket, { method: 'GET', path: '/v1/health' }), { status: 'ok' });
    reader.close();
  });

  it('refuses a stream past the most open at once with FO_DAEMON_TOO_MANY_STREAMS (429), and opens one again once another ends', async () => {
    const d = await daemon({ streams: { maxOpen: 2 } });
    const first = await openStream(d.socket, '/v1/events');
    const second = await openStream(d.socket, '/v1/events');
    const refused = await send(d.socket, { method: 'GET', path: '/v1/events' });
    assert.equal(refused.status, 429);
    assert.equal(await codeOf(call(d.socket, { method: 'GET', path: '/v1/events' })), 'FO_DAEMON_TOO_MANY_STREAMS');
    first.close();
    await eventually(() => d.daemon.services.streams.size === 1, 'the first stream to end');
    const third = await openStream(d.socket, '/v1/events');
    assert.equal(third.status, 200);
    second.close();
    third.close();
  });

  it('encodes hostile text as one JSON data line: a CR or LF cannot end the event or forge another', () => {
    const hostile = 'x\n\nevent: lifecycle\ndata: {"plugin":"forged"}\r\n\r\n';
    const text = sseEvent('audit', { resource: hostile });
    assert.deepEqual(
      sseEvents(text).map((event) => [event.event, (JSON.parse(event.data) as { resource: string }).resource]),
      [['audit', hostile]],
    );
  });
});

describe('the daemon\'s stop with streams open', () => {
  it('ends every stream and unsubscribes it, cuts a client that stopped reading, and returns', async () => {
    // Level all: every request is an event for the stalled client; no overflow, so it stays open and behind.
    const d = await daemon({ auditYaml: '    level: all\n', streams: { maxQueued: 1_000_000, maxQueuedBytes: 1024 ** 3 } });
    await call(d.socket, { method: 'POST', path: '/v1/plugins?start=true', bytes: await signedChatty(d.dir) });
    const viewer = d.tcp(d.daemon.services.tokens.create('viewer', 'viewer').token);
    const events = await openStream(viewer, '/v1/events?types=lifecycle');
    const logs = await openStream(d.socket, '/v1/plugins/chatty/logs?follow=true');
    const stalled = stalledClient(d.daemon.socket, '/v1/events?types=audit');
    await eventually(() => d.daemon.services.streams.size === 3, 'three streams');
    for (let requests = 0; d.daemon.services.streams.behind === 0; requests += 20) {
      assert.ok(requests < 20_000, 'the stalled client should be behind by now');
      await Promise.all(Array.from({ length: 20 }, () => call(d.socket, { method: 'GET', path: '/v1/info' })));
    }
    await d.close();
    running.splice(running.indexOf(d), 1);
    // Reading now drains what the kernel holds; it ends only because the daemon closed the connection.
    await Promise.all([events.ended, logs.ended, stalled.resume()]);
    assert.deepEqual([d.daemon.services.streams.size, d.daemon.services.events.clients, d.daemon.services.logs.subscribers], [0, 0, 0]);
    assert.equal(await codeOf(call(d.socket, { method: 'GET', path: '/v1/health' })), 'FO_DAEMON_NOT_RUNNING');
  });
});
