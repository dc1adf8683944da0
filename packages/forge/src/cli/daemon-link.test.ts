import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { forge, jsonError } from '../test-support/cli.js';
import { testDaemon, signedSample, type TestDaemon } from '../test-support/daemon.js';
import { signingWorkspace } from '../test-support/workspace.js';

const running: TestDaemon[] = [];
const servers: Server[] = [];
after(async () => {
  for (const daemon of running) await daemon.close();
  for (const server of servers) server.close();
});

async function daemon(): Promise<TestDaemon> {
  const started = await testDaemon();
  running.push(started);
  return started;
}

function run(cwd: string, env: Record<string, string>, ...argv: string[]): ReturnType<typeof forge> {
  return forge(argv, { cwd, env });
}

/**
 * A program that is not the daemon, listening on a unix socket in a fresh workspace and
 * answering every request with `answer`: what FORGE_DAEMON=unix:PATH would reach if it
 * named the wrong thing, or a daemon that misbehaves.
 */
async function impostor(answer: (request: IncomingMessage, response: ServerResponse) => void): Promise<{ dir: string; env: Record<string, string> }> {
  const dir = await signingWorkspace('forge-impostor-');
  const socket = join(dir, 'impostor.sock');
  const server = createServer(answer);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return { dir, env: { FORGE_DAEMON: `unix:${socket}` } };
}

function errorAnswer(status: number, error: unknown): (request: IncomingMessage, response: ServerResponse) => void {
  return (_request, response) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ error }));
  };
}

describe('how the CLI finds the daemon', () => {
  it('never uses the daemon with FORGE_DAEMON=off, and says why on stderr', async () => {
    const d = await daemon();
    await run(d.dir, {}, 'install', await signedSample(d.dir));
    const off = await run(d.dir, { FORGE_DAEMON: 'off' }, 'ps');
    assert.equal(off.status, 0, off.stderr);
    assert.equal(off.stderr, 'forge: FORGE_DAEMON=off; showing the installed plugins, none loaded\n');
    assert.match(off.stdout, /sample-plugin {2}not-loaded/);
    const start = await run(d.dir, { FORGE_DAEMON: 'off' }, 'start', 'sample-plugin');
    assert.equal(start.status, 9);
    assert.equal(start.stderr, 'forge: FO_DAEMON_NOT_RUNNING: forge start needs a running daemon, and FORGE_DAEMON=off says not to use one\n');
  });

  it('reaches a daemon over loopback TCP with FORGE_DAEMON and FORGE_TOKEN, the token\'s role deciding', async () => {
    const d = await daemon();
    const pkg = await signedSample(d.dir);
    await run(d.dir, {}, 'install', pkg);
    const operator = d.daemon.services.tokens.create('ci', 'operator').token;
    const url = d.daemon.url ?? '';
    const viaTcp = { FORGE_DAEMON: url, FORGE_TOKEN: operator };
    const started = await run(d.dir, viaTcp, 'start', 'sample-plugin');
    assert.equal(started.stdout, 'sample-plugin: running\n', started.stderr);
    const install = await run(d.dir, viaTcp, 'install', pkg, '--json');
    assert.deepEqual([install.status, jsonError(install).code], [4, 'FO_DAEMON_FORBIDDEN'], 'an operator may not install');
    const noToken = await run(d.dir, { FORGE_DAEMON: url }, 'ps', '--json');
    assert.deepEqual([noToken.status, jsonError(noToken).code], [10, 'FO_DAEMON_UNAUTHENTICATED']);
    const ps = (await d.auditEvents()).filter((record) => record['action'] === 'api.plugins.start').map((record) => record['principal']);
    assert.deepEqual(ps, ['token:ci']);
  });

  it('refuses a FORGE_DAEMON that is not off, unix:PATH or loopback http, before connecting anywhere (exit 2)', async () => {
    const dir = await signingWorkspace('forge-link-');
    for (const value of ['http://192.0.2.1:8080', 'https://127.0.0.1:9000', 'http://localhost.example.com:1', 'http://user:pw@127.0.0.1:1', 'http://127.0.0.1:1/v1', 'tcp://127.0.0.1:1', 'unix:', 'yes']) {
      const refused = await run(dir, { FORGE_DAEMON: value }, 'ps', '--json');
      assert.deepEqual([refused.status, jsonError(refused).code], [2, 'FO_DAEMON_TARGET_INVALID'], value);
    }
    const hostile = await run(dir, { FORGE_DAEMON: 'http://\u001b[2J.example' }, 'ps');
    assert.doesNotMatch(hostile.stderr, /\u001b/u);
  });

  it('does not fall back to the store when a daemon named explicitly does not answer (exit 9)', async () => {
    const dir = await signingWorkspace('forge-link-');
    const missing = await run(dir, { FORGE_DAEMON: `unix:${join(dir, 'nothing.sock')}` }, 'ps', '--json');
    assert.deepEqual([missing.status, jsonError(missing).code], [9, 'FO_DAEMON_NOT_RUNNING']);
    const closedPort = await run(dir, { FORGE_DAEMON: 'http://127.0.0.1:1' }, 'list', '--json');
    assert.equal(closedPort.status, 0, 'list reads the store whatever FORGE_DAEMON says');
  });

  it('works on the store when the configured socket is left over from a daemon that was killed', async () => {
    const dir = await signingWorkspace('forge-link-', '  daemon:\n    socket: run/forge.sock\n    database: run/daemon.db\n');
    await mkdir(join(dir, 'run'));
    const socket = join(dir, 'run', 'forge.sock');
    const child = spawn(process.execPath, ['-e', 'require("node:net").createServer().listen(process.argv[1], () => console.log("up"))', socket], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.kill('SIGKILL');
    await new Promise<void>((resolve) => child.once('exit', () => resolve()));
    assert.equal(existsSync(socket), true, 'the killed listener left its socket behind');
    const ps = await run(dir, {}, 'ps');
    assert.equal(ps.status, 0, ps.stderr);
    assert.equal(ps.stderr, `forge: no daemon answers at ${socket}; showing the installed plugins, none loaded\nno plugins installed\n`);
  });
});

describe('a daemon that misbehaves', () => {
  it('has its refusal shown with its code and exit status, the message escaped', async () => {
    const { dir, env } = await impostor(errorAnswer(500, { code: 'FO_STORE_CORRUPT', kind: 'integrity', message: 'broken \u001b[2J\u001b]0;pwned\u0007\u202e' }));
    const refused = await run(dir, env, 'ps');
    assert.equal(refused.status, 5);
    assert.equal(refused.stderr, 'forge: FO_STORE_CORRUPT: broken \\u{1b}[2J\\u{1b}]0;pwned\\u{7}\\u{202e}\n');
    const unknown = await impostor(errorAnswer(500, { code: 'FO_NOT_A_CODE', message: 'x' }));
    const internal = await run(unknown.dir, unknown.env, 'ps', '--json');
    assert.deepEqual([internal.status, jsonError(internal).code], [1, 'FO_INTERNAL_UNEXPECTED']);
  });

  it('has what it says about plugins escaped in the ps table', async () => {
    const view = { name: 'x\u001b[2J', version: '1\u202e', publisher: '\u001b]0;pwned\u0007', attested: false, digest: 'd', state: 'running\u001b[31m', desired: 'running', restarts: 0, installedAt: '', previousVersion: null, permissions: {}, dependencies: {}, loadError: null };
    const { dir, env } = await impostor((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ plugins: [view] }));
    });
    const ps = await run(dir, env, 'ps');
    assert.equal(ps.status, 0, ps.stderr);
    assert.doesNotMatch(ps.stdout, /[\u001b\u0007\u202e]/u);
    assert.match(ps.stdout, /x\\u\{1b\}\[2J {2}running\\u\{1b\}\[31m/);
  });

  it('is left when its answer is not JSON, its line endless, or it drops an events reader that fell behind', async () => {
    const notJson = await impostor((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('<html>');
    });
    const garbled = await run(notJson.dir, notJson.env, 'ps', '--json');
    assert.deepEqual([garbled.status, jsonError(garbled).code], [9, 'FO_DAEMON_UNREACHABLE']);

    const endless = await impostor((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/x-ndjson' });
      const chunk = 'x'.repeat(64 * 1024);
      const pump = (): void => {
        while (response.write(chunk));
        response.once('drain', pump);
      };
      response.on('close', () => response.removeAllListeners('drain'));
      pump();
    });
    const tooLong = await run(endless.dir, endless.env, 'logs', 'anything', '--json');
    assert.deepEqual([tooLong.status, jsonError(tooLong).code], [9, 'FO_DAEMON_UNREACHABLE']);
    assert.match(jsonError(tooLong).message, /longer than 1048576 characters/);

    const overflowBody = JSON.stringify({ error: { code: 'FO_DAEMON_STREAM_OVERFLOW', kind: 'limit', message: 'fell behind \u001b[2J' } });
    const overflow = await impostor((request, response) => {
      if (request.url?.startsWith('/v1/events') === true) {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        // The stream stays open after the overflow: forge must stop reading on its own.
        response.write(`: ping\n\nevent: plugin\ndata: {"time":"t","plugin":"p","name":"n","payload":""}\n\nevent: overflow\ndata: ${overflowBody}\n\n`);
      } else {
        response.writeHead(200, { 'content-type': 'application/x-ndjson' });
        response.write(`{}\n{"plugin":"p","time":"t","level":"info","message":"m","fields":{}}\n${overflowBody}\n`);
      }
    });
    const dropped = await run(overflow.dir, overflow.env, 'events');
    assert.equal(dropped.status, 8);
    assert.equal(dropped.stdout, 't  plugin  p  n  ""\n', 'the events before the overflow were printed');
    assert.equal(dropped.stderr, 'forge: FO_DAEMON_STREAM_OVERFLOW: fell behind \\u{1b}[2J\n');
    const bareOverflow = await impostor((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write('event: overflow\n\n');
    });
    assert.equal((await run(bareOverflow.dir, bareOverflow.env, 'events')).status, 8, 'an overflow that says nothing more');
    const logs = await run(overflow.dir, overflow.env, 'logs', '-f', 'p');
    assert.equal(logs.status, 8);
    assert.equal(logs.stdout, 't  INFO   m\n', 'the records before it, the keep-alive skipped');
    assert.equal(logs.stderr, 'forge: FO_DAEMON_STREAM_OVERFLOW: fell behind \\u{1b}[2J\n');
  });
});
