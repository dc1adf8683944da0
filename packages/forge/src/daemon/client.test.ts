import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { codeOf } from '@forgeone/common/testing';
import { cliFor, forge } from '../test-support/cli.js';
import { SAMPLE_PLUGIN_DIR, testDaemon, signedSample, type TestDaemon } from '../test-support/daemon.js';
import { pack } from '../cli/commands/package/pack.js';
import { sign } from '../cli/commands/package/sign.js';
import { call, openStream, serverEvents, type ServerEvent } from './client.js';

const running: TestDaemon[] = [];
after(async () => {
  for (const daemon of running) await daemon.close();
});

/** The sample plugin with 300 KiB of random (incompressible) bytes among its assets, packed and signed in `dir`. */
async function bigPackage(dir: string): Promise<string> {
  const src = join(dir, 'big-src');
  await cp(SAMPLE_PLUGIN_DIR, src, { recursive: true });
  await writeFile(join(src, 'assets', 'noise.bin'), randomBytes(300 * 1024));
  const { ok } = cliFor([pack, sign]);
  await ok(dir, 'pack', src, '-o', 'big.forgepkg');
  await ok(dir, 'sign', 'big.forgepkg', '--key', 'publisher.key', '--cert', 'publisher.pem');
  return join(dir, 'big.forgepkg');
}

async function* linesOf(...lines: string[]): AsyncGenerator<string> {
  for (const line of lines) yield await Promise.resolve(line);
}

async function collect(events: AsyncIterable<ServerEvent>): Promise<ServerEvent[]> {
  const out: ServerEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

describe('the daemon client', () => {
  it('reports upload progress piece by piece, rising to the size of the body', async () => {
    const d = await testDaemon();
    running.push(d);
    const bytes = await readFile(await bigPackage(d.dir));
    const seen: [number, number][] = [];
    const outcome = await call<{ action: string }>(d.socket, { method: 'POST', path: '/v1/plugins', bytes, onUploadProgress: (sent, total) => seen.push([sent, total]) });
    assert.equal(outcome.action, 'installed');
    assert.ok(seen.length >= 4, `one report per 64 KiB piece, found ${seen.length}`);
    assert.ok(seen.every(([sent], index) => index === 0 || sent > (seen[index - 1]?.[0] ?? 0)), 'rising');
    assert.deepEqual(seen.at(-1), [bytes.length, bytes.length]);
    assert.ok(seen.every(([, total]) => total === bytes.length));

    const shown = await forge(['install', join(d.dir, 'big.forgepkg')], { cwd: d.dir, env: {}, tty: { stderr: true } });
    assert.equal(shown.status, 0, shown.stderr);
    const updates = shown.stderr.split('\r').filter((part) => part !== '');
    assert.ok(updates.length >= 4, `the line is redrawn as the upload goes, found ${updates.length}`);
    assert.match(updates.at(-1) ?? '', /: 100% \(\d+\.\d KiB of \d+\.\d KiB\)\u001b\[K, the daemon verifies and installs it\n$/);
  });

  // The timeout is a guard, not a deadline: a stream that does not end fails instead of hanging the suite.
  it('ends a stream quietly when its signal aborts, and reads a refusal whole', { timeout: 120_000 }, async () => {
    const d = await testDaemon();
    running.push(d);
    await call(d.socket, { method: 'POST', path: '/v1/plugins?start=true', bytes: await readFile(await signedSample(d.dir)) });
    const stop = new AbortController();
    const stream = await openStream(d.socket, { method: 'GET', path: '/v1/plugins/sample-plugin/logs?follow=true', signal: stop.signal });
    stop.abort();
    await assert.doesNotReject(async () => {
      for await (const line of stream.lines) assert.equal(typeof line, 'string');
    }, 'an aborted stream ends without an error');
    assert.equal(await codeOf(openStream(d.socket, { method: 'GET', path: '/v1/plugins/nothing/logs' })), 'FO_STORE_NOT_INSTALLED');
  });
});

describe('reading Server-Sent Events', () => {
  it('joins data lines, skips comments and ids, and delivers an event with a type but no data', async () => {
    const events = await collect(serverEvents(linesOf(': ping', '', 'event: plugin', 'id: 7', 'data: {"a":', 'data:1}', '', 'data: plain', '', 'event: overflow', '', 'data: unterminated')));
    assert.deepEqual(events, [
      { event: 'plugin', data: '{"a":\n1}' },
      { event: 'message', data: 'plain' },
      { event: 'overflow', data: '' },
    ]);
  });

  it('refuses an event whose data grows past the line limit', async () => {
    const huge = 'x'.repeat(600 * 1024);
    assert.equal(await codeOf(collect(serverEvents(linesOf(`data: ${huge}`, `data: ${huge}`, '')))), 'FO_DAEMON_UNREACHABLE');
  });
});
