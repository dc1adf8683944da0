/**
 * Slow and idle clients: a client that dribbles its headers or never finishes its body
 * is cut at daemon.request_timeout with FO_DAEMON_TIMEOUT (408) and its connection
 * closed, while everyone else is served; a client opening hundreds of idle connections
 * gets at most daemon.max_connections of them, for at most request_timeout, and never
 * locks the admin's socket out.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { codeOf } from '@forgeone/common/testing';
import { signedSample, testDaemon, type TestDaemon } from '../test-support/daemon.js';
import { RawConnection, codeOfResponse, pause, type RawTarget } from '../test-support/raw-http.js';
import { call, send } from './client.js';

const MAX_CONNECTIONS = 40;

/** A daemon with request_timeout 3 s and max_connections 40, the sample plugin running, and an operator token. */
async function daemon(): Promise<{ d: TestDaemon; operator: string }> {
  const started = await testDaemon({ daemonYaml: `    request_timeout: 3s\n    max_connections: ${MAX_CONNECTIONS}\n` });
  await call(started.socket, { method: 'POST', path: '/v1/plugins?start=true', bytes: await readFile(await signedSample(started.dir)) });
  return { d: started, operator: started.daemon.services.tokens.create('operator', 'operator').token };
}

let d: TestDaemon;
let operator: string;
before(async () => {
  ({ d, operator } = await daemon());
});
after(() => d.close());

async function greet(target: Parameters<typeof send>[0], name: string): Promise<void> {
  const response = await send(target, { method: 'POST', path: '/v1/plugins/sample-plugin/call/greet', bytes: Buffer.from(name) });
  assert.deepEqual([response.status, response.body.toString('utf8')], [200, `Hello, ${name}!`]);
}

/** Health on both transports and a real call into the running sample plugin succeed. */
async function assertServing(daemon: TestDaemon = d, token: string = operator): Promise<void> {
  assert.deepEqual(await call(daemon.socket, { method: 'GET', path: '/v1/health' }), { status: 'ok' });
  assert.deepEqual(await call(daemon.tcp(), { method: 'GET', path: '/v1/health' }), { status: 'ok' });
  await greet(daemon.tcp(token), 'meanwhile');
  await greet(daemon.socket, 'on the socket');
}

function transports(): { readonly name: string; readonly target: RawTarget; readonly auth: string }[] {
  return [
    { name: 'socket', target: { socket: d.daemon.socket }, auth: '' },
    { name: 'tcp', target: { url: d.daemon.url as string }, auth: `Authorization: Bearer ${operator}\r\n` },
  ];
}

/** Writes `bytes` one byte a second until done or the daemon closes the connection; returns how many it sent. */
async function dribble(connection: RawConnection, bytes: string): Promise<number> {
  let sent = 0;
  for (const byte of bytes) {
    if (!(await connection.write(byte))) break;
    sent += 1;
    await Promise.race([pause(1000), connection.closed]);
    if (connection.isClosed) break;
  }
  return sent;
}

describe('forge daemon under slow clients', () => {
  it('cuts clients dribbling their headers one byte a second at request_timeout with FO_DAEMON_TIMEOUT (408), closing the connection, and serves others meanwhile', { timeout: 120_000 }, async () => {
    // 60 bytes at one a second: a minute to arrive, twenty times request_timeout.
    const tail = `X-Slow: ${'s'.repeat(48)}\r\n\r\n`;
    const slow: { name: string; connection: RawConnection; dribbled: Promise<number> }[] = [];
    for (const { name, target, auth } of transports()) {
      for (let i = 0; i < 5; i += 1) {
        const connection = await RawConnection.open(target);
        await connection.write(`GET /v1/plugins HTTP/1.1\r\nHost: forge\r\n${auth}`);
        slow.push({ name, connection, dribbled: dribble(connection, tail) });
      }
    }
    await assertServing();
    assert.deepEqual(
      slow.filter(({ connection }) => connection.isClosed).map(({ name }) => name),
      [],
      'the other clients were served while every slow one was still connected',
    );
    for (const { name, connection, dribbled } of slow) {
      const sent = await dribbled;
      await connection.closed;
      const response = connection.response();
      assert.deepEqual([response?.status, codeOfResponse(response), response?.headers['connection']], [408, 'FO_DAEMON_TIMEOUT', 'close'], name);
      assert.ok(sent < tail.length, `${name}: the request was cut before it completed (${sent} of ${tail.length} bytes)`);
    }
    await assertServing();
  });

  it('cuts a body that never completes, or arrives a byte a second, with FO_DAEMON_TIMEOUT (408) and closes the connection', { timeout: 120_000 }, async () => {
    const cases: { name: string; connection: RawConnection; dribbled: Promise<number> }[] = [];
    for (const { name, target, auth } of transports()) {
      const stalled = await RawConnection.open(target);
      await stalled.write(`POST /v1/plugins/sample-plugin/call/greet HTTP/1.1\r\nHost: forge\r\n${auth}Content-Type: application/octet-stream\r\nContent-Length: 1000\r\n\r\n0123456789`);
      cases.push({ name: `${name}, stalled`, connection: stalled, dribbled: Promise.resolve(0) });
      const trickle = await RawConnection.open(target);
      await trickle.write(`POST /v1/plugins/sample-plugin/call/greet HTTP/1.1\r\nHost: forge\r\n${auth}Content-Type: application/octet-stream\r\nContent-Length: 60\r\n\r\n`);
      cases.push({ name: `${name}, a byte a second`, connection: trickle, dribbled: dribble(trickle, 'x'.repeat(60)) });
    }
    await assertServing();
    for (const { name, connection, dribbled } of cases) {
      const sent = await dribbled;
      await connection.closed;
      assert.equal(codeOfResponse(connection.response()), 'FO_DAEMON_TIMEOUT', name);
      assert.ok(sent < 60, `${name}: cut before the body completed`);
    }
    await assertServing();
  });
});

describe('forge daemon under a flood of idle connections', () => {
  it('holds at most max_connections per listener, closes the rest at once, cuts the idle ones at request_timeout, and keeps the socket serving', { timeout: 120_000 }, async () => {
    // A daemon of its own: no connection of an earlier test (kept alive by the client) counts here.
    const { d: flooded, operator: token } = await daemon();
    try {
      await flood(flooded, token);
    } finally {
      await flooded.close();
    }
  });
});

/** Opens 300 idle TCP connections against `flooded` (max_connections 40) and checks what each got. */
async function flood(flooded: TestDaemon, token: string): Promise<void> {
  const tcp = { url: flooded.daemon.url as string };
  const idle: RawConnection[] = [];
  for (let i = 0; i < 300; i += 1) idle.push(await RawConnection.open(tcp));
  // Beyond the cap, connections are closed as soon as they are accepted, without an answer.
  const refused = idle.filter((_, i) => i >= MAX_CONNECTIONS);
  await Promise.all(refused.map((connection) => connection.closed));
  assert.deepEqual(refused.filter((connection) => connection.received().length > 0).length, 0);
  const held = idle.slice(0, MAX_CONNECTIONS);
  assert.equal(held.filter((connection) => connection.isClosed).length, 0, 'the first max_connections are held');
  // The admin's socket has its own budget: it serves while TCP is full.
  assert.deepEqual(await call(flooded.socket, { method: 'GET', path: '/v1/health' }), { status: 'ok' });
  await greet(flooded.socket, 'admin during a flood');
  assert.equal(await codeOf(call(flooded.tcp(), { method: 'GET', path: '/v1/health' })), 'FO_DAEMON_UNREACHABLE', 'a TCP client is turned away while the listener is full');
  // The held ones said nothing: each is answered 408 and closed at request_timeout.
  for (const connection of held) {
    await connection.closed;
    assert.equal(codeOfResponse(connection.response()), 'FO_DAEMON_TIMEOUT');
  }
  await assertServing(flooded, token);
  const warnings = flooded.logs.filter((record) => record.message.startsWith('API connections refused'));
  assert.deepEqual(
    warnings.slice(0, 1).map((record) => [record.level, record.fields['transport'], record.fields['maxConnections']]),
    [['warn', 'tcp', MAX_CONNECTIONS]],
  );
}

describe('forge daemon stopping while slow clients are connected', () => {
  it('cuts the connections whose request is still arriving, a body with FO_DAEMON_SHUTTING_DOWN (503), instead of waiting request_timeout for them', { timeout: 60_000 }, async () => {
    // Two minutes of request_timeout: without the cut, close() would wait that long and the test time out.
    const stopping = await testDaemon({ daemonYaml: '    request_timeout: 120s\n' });
    const token = stopping.daemon.services.tokens.create('operator', 'operator').token;
    await call(stopping.socket, { method: 'POST', path: '/v1/plugins?start=true', bytes: await readFile(await signedSample(stopping.dir)) });
    const arriving: { name: string; connection: RawConnection; answered: boolean }[] = [];
    for (const [name, target, auth] of [
      ['socket', { socket: stopping.daemon.socket }, ''],
      ['tcp', { url: stopping.daemon.url as string }, `Authorization: Bearer ${token}\r\n`],
    ] as const) {
      const head = await RawConnection.open(target);
      await head.write(`GET /v1/plugins HTTP/1.1\r\nHost: forge\r\n${auth}X-Half: `);
      arriving.push({ name: `${name}: half a head`, connection: head, answered: false });
      const body = await RawConnection.open(target);
      await body.write(`POST /v1/plugins/sample-plugin/call/greet HTTP/1.1\r\nHost: forge\r\n${auth}Content-Type: application/octet-stream\r\nContent-Length: 100\r\n\r\n0123456789`);
      arriving.push({ name: `${name}: half a body`, connection: body, answered: true });
      arriving.push({ name: `${name}: nothing yet`, connection: await RawConnection.open(target), answered: false });
    }
    // Every connection is accepted and its bytes read before the stop begins.
    await greet(stopping.socket, 'before the stop');
    await stopping.close();
    for (const { name, connection, answered } of arriving) {
      await connection.closed;
      assert.equal(codeOfResponse(connection.response()), answered ? 'FO_DAEMON_SHUTTING_DOWN' : 'no response', name);
    }
  });
});
